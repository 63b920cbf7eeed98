/**
 * Which seccomp architectures this host's kernel actually runs. Docker's
 * profile lists the whole family (x86_64 with x86 and x32), and runc (through
 * libseccomp) compiles rules for each one at every container start: on a
 * kernel built without the x32 ABI, the x32 rules are half of that work (8 of
 * the 16 ms of CPU the filter costs per start on a 2-core VM) for calls the
 * kernel refuses anyway. A family member is left out only when the kernel's
 * own configuration says it is not built in; when the configuration cannot
 * be read, the whole family stays.
 */
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import { seccompArchitectures } from "../oci/seccomp-default.js";

/** Kernel options that build in a compat architecture, by its seccomp name. */
const KERNEL_OPTION: Readonly<Record<string, string>> = {
  SCMP_ARCH_X32: "CONFIG_X86_X32_ABI",
  SCMP_ARCH_X86: "CONFIG_IA32_EMULATION",
  SCMP_ARCH_ARM: "CONFIG_COMPAT",
  SCMP_ARCH_S390: "CONFIG_COMPAT",
};

let cached: readonly string[] | undefined;

/** This host's: its family's seccomp architectures, without the compat ones the running kernel was built without. */
export function hostSeccompArchitectures(): readonly string[] {
  cached ??= kernelSeccompArchitectures(process.arch, readKernelConfig());
  return cached;
}

/** `arch`'s family (`process.arch` naming) under a kernel of configuration `config` (undefined: unknown, so all of it). */
export function kernelSeccompArchitectures(arch: string, config: string | undefined): string[] {
  const family = seccompArchitectures(arch);
  if (config === undefined) return family;
  const text = `\n${config}\n`;
  return family.filter((a, i) => i === 0 || !notBuilt(text, KERNEL_OPTION[a]));
}

function notBuilt(config: string, option: string | undefined): boolean {
  return option !== undefined && config.includes(`\n# ${option} is not set\n`);
}

/** The running kernel's build configuration (`/proc/config.gz`, else `/boot/config-<release>`), if readable. */
function readKernelConfig(): string | undefined {
  try {
    return gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
  } catch {
    // Not built with IKCONFIG_PROC: try the distribution's copy.
  }
  try {
    return readFileSync(`/boot/config-${release()}`, "utf8");
  } catch {
    return undefined;
  }
}
