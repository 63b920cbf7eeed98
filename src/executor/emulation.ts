/**
 * Which platforms this engine's containers can run, and making more of them
 * runnable: at start, every architecture qemu can emulate gets a binfmt_misc
 * registration for Debian's static emulator (`qemu-<arch>-static`, from the
 * qemu-user-static package) unless something already handles it. Execs ask
 * `check(platform)` first, so a platform without an emulator fails with a
 * message naming what is missing instead of "exec format error".
 *
 *   const emulation = await Emulation.setup({ log });
 *   emulation.platforms;            // ["linux/amd64", "linux/386", "linux/arm64", …]
 *   emulation.check("linux/arm64"); // throws FailedPreconditionError when it cannot run
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, messageOf } from "../errors.js";
import { hostPlatform, type Platform, parsePlatform } from "../oci/platform.js";
import {
  BINFMT_DIR,
  type BinfmtEntry,
  ELF_MACHINES,
  type ElfMachine,
  ensureBinfmtMounted,
  handles,
  isStaticElf,
  readBinfmtEntries,
  registerBinfmt,
} from "./binfmt.js";

/** What an exec asks before it runs. */
export interface PlatformSupport {
  /** The platforms containers can run on: native first, then emulated. */
  readonly platforms: readonly string[];
  /** Throws FailedPreconditionError, naming what is missing, when `platform` cannot run. */
  check(platform: string): void;
}

interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Architectures a host runs without emulation, beyond its own. */
const NATIVE_COMPAT: Readonly<Record<string, readonly string[]>> = { amd64: ["386"] };

/** Variants an arm machine (emulated: qemu-arm runs all of them) accepts. */
const ARM_VARIANTS = ["v7", "v6", "v5"];

export interface EmulationOptions {
  log?: Logger;
  /** binfmt_misc's mount point. */
  binfmtDir?: string;
  /** Where to look for emulators; default: $PATH, then /usr/bin and /usr/local/bin. */
  searchPath?: readonly string[];
  /** The machine's platform (tests pretend to be another). */
  host?: Platform;
}

export class Emulation implements PlatformSupport {
  private constructor(
    private readonly host: Platform,
    /** Architecture → how it runs ("native", or the binfmt entry's name). */
    private readonly runnable: ReadonlyMap<string, string>,
    /** Architecture → why it cannot run. */
    private readonly missing: ReadonlyMap<string, string>,
  ) {}

  /** Find emulators, register the missing ones, and report what runs. */
  static async setup(opts: EmulationOptions = {}): Promise<Emulation> {
    const host = opts.host ?? hostPlatform();
    const dir = opts.binfmtDir ?? BINFMT_DIR;
    const native = new Set([host.architecture, ...(NATIVE_COMPAT[host.architecture] ?? [])]);
    const runnable = new Map<string, string>([...native].map((a) => [a, "native"]));
    const missing = new Map<string, string>();
    const machines = Object.values(ELF_MACHINES).filter((m) => !native.has(m.architecture));

    let entries: BinfmtEntry[] | undefined;
    try {
      await ensureBinfmtMounted(dir);
      entries = await readBinfmtEntries(dir);
    } catch (err) {
      const why = `binfmt_misc is not usable at ${dir} (${messageOf(err).split("\n")[0]?.trim()})`;
      for (const m of machines) missing.set(m.architecture, why);
      opts.log?.warn("no emulation of other platforms", { reason: why });
      return new Emulation(host, runnable, missing);
    }

    const searchPath = opts.searchPath ?? defaultSearchPath();
    for (const machine of machines) {
      try {
        const outcome = await enable(dir, machine, entries, searchPath);
        if (outcome.registered) entries = await readBinfmtEntries(dir);
        if ("why" in outcome) missing.set(machine.architecture, outcome.why);
        else runnable.set(machine.architecture, outcome.entry);
        if (outcome.registered)
          opts.log?.info("registered an emulator with binfmt_misc", {
            architecture: machine.architecture,
            entry: outcome.entry ?? "",
            emulator: outcome.registered,
          });
      } catch (err) {
        missing.set(machine.architecture, `registering an emulator for ${machine.qemu} failed: ${messageOf(err)}`);
      }
    }
    const emulation = new Emulation(host, runnable, missing);
    opts.log?.info("platforms", { runnable: emulation.platforms.join(","), missing: [...missing.keys()].join(",") });
    return emulation;
  }

  get platforms(): string[] {
    return [...this.runnable.keys()].flatMap((a) => (a === "arm" ? ARM_VARIANTS.map((v) => `linux/arm/${v}`) : [`linux/${a}`]));
  }

  /** How `architecture` runs: "native", a binfmt entry's name, or undefined. */
  runner(architecture: string): string | undefined {
    return this.runnable.get(architecture);
  }

  check(platform: string): void {
    const p = parsePlatform(platform);
    const where = `this ${this.host.os}/${this.host.architecture} engine`;
    if (p.os !== "linux") throw new FailedPreconditionError(`cannot run a ${platform} container on ${where}: it runs linux containers only`);
    if (this.runnable.has(p.architecture)) return;
    const why = this.missing.get(p.architecture) ?? `no emulator is known for architecture "${p.architecture}"`;
    throw new FailedPreconditionError(`cannot run a ${platform} container on ${where}: ${why}. It can run ${this.platforms.join(", ")}`);
  }
}

type Outcome = { entry: string; registered?: string } | { entry?: undefined; why: string; registered?: string };

/** Make `machine` runnable: by an entry already there, or by registering an emulator found on `searchPath`. */
async function enable(dir: string, machine: ElfMachine, entries: readonly BinfmtEntry[], searchPath: readonly string[]): Promise<Outcome> {
  const existing = entries.find((e) => handles(e, machine));
  if (existing) return usable(existing);
  const emulator = await findEmulator(machine, searchPath);
  if (emulator === undefined) {
    return {
      why: `no emulator for ${machine.architecture}: qemu-${machine.qemu}-static was not found on ${searchPath.join(":")} (install Debian's qemu-user-static)`,
    };
  }
  const name = `qemu-${machine.qemu}`;
  await registerBinfmt(dir, name, machine, emulator);
  const after = (await readBinfmtEntries(dir)).find((e) => handles(e, machine));
  if (after) return { ...usable(after), registered: emulator };
  const blocker = entries.find((e) => e.name === name);
  return {
    why: blocker
      ? `binfmt_misc entry ${name} exists but is disabled; tanto does not override it`
      : `binfmt_misc did not take the registration of ${emulator} for ${machine.architecture}`,
  };
}

function usable(entry: BinfmtEntry): Outcome {
  if (entry.flags.includes("F")) return { entry: entry.name };
  return {
    why: `binfmt_misc entry ${entry.name} handles it without the F flag, so its interpreter ${entry.interpreter} would be looked up inside each container`,
  };
}

async function findEmulator(machine: ElfMachine, searchPath: readonly string[]): Promise<string | undefined> {
  for (const name of [`qemu-${machine.qemu}-static`, `qemu-${machine.qemu}`]) {
    for (const d of searchPath) {
      const file = path.join(d, name);
      const real = await fs.realpath(file).catch(() => undefined);
      if (real !== undefined && (await isStaticElf(real))) return real;
    }
  }
  return undefined;
}

function defaultSearchPath(): string[] {
  const dirs = (process.env["PATH"] ?? "").split(":").filter((d) => d.startsWith("/"));
  return [...new Set([...dirs, "/usr/bin", "/usr/local/bin"])];
}
