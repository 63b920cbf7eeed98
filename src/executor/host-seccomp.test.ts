import assert from "node:assert/strict";
import { test } from "node:test";
import { hostSeccompArchitectures, kernelSeccompArchitectures } from "./host-seccomp.js";

const config = (lines: string[]): string => lines.join("\n");

test("compat architectures the kernel was built without are left out; an unreadable configuration keeps the family", () => {
  assert.deepEqual(kernelSeccompArchitectures("x64", config(["CONFIG_IA32_EMULATION=y", "# CONFIG_X86_X32_ABI is not set"])), [
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86",
  ]);
  assert.deepEqual(kernelSeccompArchitectures("x64", config(["CONFIG_IA32_EMULATION=y", "CONFIG_X86_X32_ABI=y"])), [
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X32",
  ]);
  assert.deepEqual(kernelSeccompArchitectures("x64", config(["# CONFIG_IA32_EMULATION is not set", "# CONFIG_X86_X32_ABI is not set"])), ["SCMP_ARCH_X86_64"]);
  assert.deepEqual(kernelSeccompArchitectures("x64", undefined), ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  assert.deepEqual(kernelSeccompArchitectures("arm64", config(["# CONFIG_COMPAT is not set"])), ["SCMP_ARCH_AARCH64"]);
  // An option named only as a prefix of another does not count.
  assert.ok(hostSeccompArchitectures().length >= 1, "this host's list has at least the native architecture");
  assert.deepEqual(kernelSeccompArchitectures("x64", config(["# CONFIG_X86_X32_ABI_EXTRA is not set"])), [
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X32",
  ]);
});
