/**
 * The kernel's binfmt_misc, as far as emulation needs it: which ELF machines
 * qemu's user-mode emulators handle (magic and mask, as qemu's own
 * qemu-binfmt-conf.sh and Debian's /usr/lib/binfmt.d give them), reading the
 * registrations the host already has, and adding one.
 *
 * Registrations are global to the kernel and outlive the engine. So this
 * code only ever adds: it never disables or removes an entry, and an ELF
 * machine someone else already handles (the host, Docker's binfmt, another
 * engine) is left to them. Entries are added with the `F` flag: the kernel
 * opens the emulator once, at registration, so it runs inside containers
 * whose filesystem has no emulator; with `P` (kernels from 5.12 tell qemu
 * through AT_FLAGS), so a program sees the argv[0] it was started with,
 * which busybox needs to pick its applet; and with `O`, so the kernel hands
 * qemu the open executable (which may not be readable by path).
 *
 *   const entries = await readBinfmtEntries(dir);
 *   if (!entries.some((e) => handles(e, ELF_MACHINES.aarch64))) await registerBinfmt(dir, "qemu-aarch64", ELF_MACHINES.aarch64, "/usr/bin/qemu-aarch64-static");
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { mount } from "../mount/mount.js";

export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/** One ELF machine qemu can emulate: the header bytes that identify it. */
export interface ElfMachine {
  /** qemu's name (`qemu-<name>-static`). */
  qemu: string;
  /** The OCI architecture (and variant) it runs. */
  architecture: string;
  /** Bytes at offset 0 of an executable for the machine (ELF type EXEC). */
  magic: Buffer;
  mask: Buffer;
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

// ELF header: ident (16 bytes: magic, class, data, version, ABI, padding), e_type (2), e_machine (2).
const ELF32LE = "7f454c46 010101 00 0000000000000000";
const ELF64LE = "7f454c46 020101 00 0000000000000000";
const ELF64BE = "7f454c46 020201 00 0000000000000000";
const MASK_STRICT_ABI_LE = "ffffffff ffffff 00 ffffffffffffffff feffffff";
const MASK_X86 = "ffffffff fffefe 00 ffffffffffffffff feffffff";
const MASK_PPC_LE = "ffffffff ffffff fc ffffffffffffffff feffff00";
const MASK_BE = "ffffffff ffffff fc ffffffffffffffff fffeffff";
const MASK_MIPS64_LE = "ffffffff ffffff 00 feffffffffffffff feffffff";
const MASK_MIPS64_BE = "ffffffff ffffff 00 feffffffffffffff fffeffff";

/** The machines tanto knows, by qemu name. */
export const ELF_MACHINES: Readonly<Record<string, ElfMachine>> = Object.fromEntries(
  (
    [
      ["x86_64", "amd64", `${ELF64LE} 0200 3e00`, MASK_X86],
      ["i386", "386", `${ELF32LE} 0200 0300`, MASK_X86],
      ["aarch64", "arm64", `${ELF64LE} 0200 b700`, MASK_STRICT_ABI_LE],
      ["arm", "arm", `${ELF32LE} 0200 2800`, MASK_STRICT_ABI_LE],
      ["riscv64", "riscv64", `${ELF64LE} 0200 f300`, MASK_STRICT_ABI_LE],
      ["ppc64le", "ppc64le", `${ELF64LE} 0200 1500`, MASK_PPC_LE],
      ["s390x", "s390x", `${ELF64BE} 0002 0016`, MASK_BE],
      ["mips64el", "mips64le", `${ELF64LE} 0200 0800`, MASK_MIPS64_LE],
      ["mips64", "mips64", `${ELF64BE} 0002 0008`, MASK_MIPS64_BE],
    ] as const
  ).map(([qemu, architecture, magic, mask]) => [qemu, { qemu, architecture, magic: hex(magic), mask: hex(mask) }]),
);

/** A registration as /proc/sys/fs/binfmt_misc/<name> shows it. */
export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  interpreter: string;
  flags: string;
  offset: number;
  /** Absent for extension (`E`) entries. */
  magic?: Buffer;
  mask?: Buffer;
}

/** Parse one entry file's text. */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry {
  const entry: BinfmtEntry = { name, enabled: false, interpreter: "", flags: "", offset: 0 };
  for (const line of text.split("\n")) {
    const [key, ...rest] = line.trim().split(/\s+/);
    const value = rest.join(" ");
    if (key === "enabled") entry.enabled = true;
    else if (key === "interpreter") entry.interpreter = value;
    else if (key === "flags:") entry.flags = value;
    else if (key === "offset") entry.offset = Number(value) || 0;
    else if (key === "magic") entry.magic = hex(value);
    else if (key === "mask") entry.mask = hex(value);
  }
  return entry;
}

/** Whether an enabled entry would take executables of `machine`. */
export function handles(entry: BinfmtEntry, machine: ElfMachine): boolean {
  if (!entry.enabled || entry.magic === undefined) return false;
  const header = machine.magic;
  for (let i = 0; i < entry.magic.length; i++) {
    const at = entry.offset + i;
    if (at >= header.length) return false;
    const m = entry.mask?.[i] ?? 0xff;
    if ((header[at]! & m) !== (entry.magic[i]! & m)) return false;
  }
  return true;
}

/**
 * Make sure binfmt_misc is mounted at `dir`. Mounting needs root (and, in a
 * container, a writable /proc/sys); a failure throws.
 */
export async function ensureBinfmtMounted(dir = BINFMT_DIR): Promise<void> {
  if (await exists(path.join(dir, "register"))) return;
  await mount({ type: "binfmt_misc", source: "binfmt_misc", options: [] }, dir);
}

/** The registrations present now. */
export async function readBinfmtEntries(dir = BINFMT_DIR): Promise<BinfmtEntry[]> {
  // Read at once, not one after another: the start waits for them (a dozen entries on a host with qemu-user-static).
  const names = (await fs.readdir(dir)).filter((name) => name !== "register" && name !== "status");
  const texts = await Promise.all(names.map((name) => fs.readFile(path.join(dir, name), "utf8").catch(() => undefined)));
  return names.flatMap((name, i) => (texts[i] === undefined ? [] : [parseBinfmtEntry(name, texts[i])]));
}

/**
 * Register `interpreter` for `machine` as `name` (flags: see above). A name
 * that exists already (another engine registering at the same moment) is
 * not an error: the caller reads the entries again.
 */
export async function registerBinfmt(dir: string, name: string, machine: ElfMachine, interpreter: string, kernel = kernelRelease()): Promise<void> {
  const bytes = (b: Buffer) => [...b].map((x) => `\\x${x.toString(16).padStart(2, "0")}`).join("");
  const flags = preserveArgv0(kernel) ? "POF" : "OF";
  const line = `:${name}:M:0:${bytes(machine.magic)}:${bytes(machine.mask)}:${interpreter}:${flags}`;
  try {
    await fs.writeFile(path.join(dir, "register"), line);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
    throw err;
  }
}

/** Whether the kernel passes binfmt_misc's P flag on to the interpreter (AT_FLAGS, Linux 5.12). */
export function preserveArgv0(release: string): boolean {
  const [major = 0, minor = 0] = release.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  return major > 5 || (major === 5 && minor >= 12);
}

function kernelRelease(): string {
  return os.release();
}

/**
 * Whether `file` is an ELF executable with no program interpreter: with
 * the F flag the kernel loads the emulator, but a dynamic one would look
 * for its loader and libraries inside the container.
 */
export async function isStaticElf(file: string): Promise<boolean> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, "r");
    const head = Buffer.alloc(64);
    await handle.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(32) : head.readBigUInt64BE(32)) : u32(head, 28);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    if (phnum === 0 || phentsize === 0) return false;
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (u32(table, i * phentsize) === PT_INTERP) return false;
    return true;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
