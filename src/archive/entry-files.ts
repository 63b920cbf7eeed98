/**
 * The per-entry file work of LayerWriter (layer-writer.ts): a regular file
 * written and given its metadata through one descriptor, opened O_EXCL |
 * O_NOFOLLOW so nothing already there is reused or followed, with as few
 * syscalls as the common case allows (see the Syscalls note there).
 */
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, readFileSync, type Stats, write, writeSync } from "node:fs";
import type { Header } from "tar-stream";

/** tar-stream's entry stream yields Buffers, though its types say unknown. */
export type EntryStream = AsyncIterable<unknown>;

/** Writes a regular file and its metadata through one descriptor (O_EXCL: never reuses or follows what is there). */
export async function writeFile(abs: string, stream: EntryStream, header: Header): Promise<void> {
  const mode = header.mode & 0o7777;
  // Most files (0644, 0755) get their mode from open(2) itself, one syscall fewer per file;
  // special bits, and bits the umask would strip, are set by fchmod afterwards.
  const modeAtOpen = (mode & 0o7000) === 0 && (mode & UMASK) === 0;
  const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, modeAtOpen ? mode : 0o600);
  // Large pieces are written on the thread pool, one at a time (in order), while the event loop
  // reads the next one and hashes and downloads what follows; small ones at once.
  let writing: Promise<void> | undefined;
  try {
    for await (const chunk of stream) {
      await writing;
      writing = undefined;
      const bytes = chunk as Uint8Array;
      if (bytes.length >= ASYNC_WRITE_BYTES) writing = writeAll(fd, bytes);
      else writeAllSync(fd, bytes);
    }
    await writing;
    writing = undefined;
    // chown clears setuid/setgid, so the mode comes after it.
    if (needsChown(header)) fchownSync(fd, header.uid, header.gid);
    if (!modeAtOpen) fchmodSync(fd, mode);
    futimesSync(fd, header.mtime, header.mtime);
  } finally {
    // Never close a descriptor a write is still using.
    await writing?.catch(() => undefined);
    closeSync(fd);
  }
}

/**
 * A piece of file data this large is written on the thread pool: copying it
 * into the page cache takes long enough (~0.2 ms per MiB) that the event loop
 * is better used meanwhile, and the hop costs far less than that.
 */
const ASYNC_WRITE_BYTES = 256 << 10;

function writeAllSync(fd: number, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
}

async function writeAll(fd: number, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.length; ) {
    off += await new Promise<number>((resolve, reject) =>
      write(fd, chunk, off, chunk.length - off, null, (err, written) => (err ? reject(err) : resolve(written))),
    );
  }
}

/**
 * The process's umask, read once from /proc (process.umask() can only read it
 * by setting it, which races with files the thread pool creates). Unknown: no
 * mode is trusted to open(2). A mode the umask would strip is set by fchmod.
 */
const UMASK = ((): number => {
  try {
    const m = /^Umask:\s+([0-7]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m?.[1] !== undefined) return Number.parseInt(m[1], 8);
  } catch {
    // not Linux, or no /proc
  }
  return 0o7777;
})();

const EUID = process.geteuid?.() ?? -1;
const EGID = process.getegid?.() ?? -1;

/**
 * New entries belong to our effective ids already (directories get no
 * setgid bit until the end), so the common root:root entry skips a syscall.
 */
export function needsChown(header: Header): boolean {
  return header.uid !== EUID || header.gid !== EGID;
}

export async function drain(stream: EntryStream): Promise<void> {
  for await (const _ of stream) {
    // discard
  }
}

export function lstatOrUndefined(abs: string): Stats | undefined {
  return lstatSync(abs, { throwIfNoEntry: false });
}
