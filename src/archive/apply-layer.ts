/**
 * Unpacks one OCI layer tar into an empty directory that becomes an overlay
 * layer. The directory is stored in overlayfs's own format, so OCI whiteouts
 * are converted while unpacking:
 *
 *   dir/.wh.name        → character device 0/0 at dir/name
 *   dir/.wh..wh..opq    → xattr trusted.overlay.opaque=y on dir
 *
 * Lower layers are never consulted: the target directory is the whole world.
 *
 *   const tar = blob.pipe(decompressStream("auto"));
 *   const { size } = await applyLayer(tar, snapshotDir, { signal });
 *
 * Hardening. The tar is untrusted; nothing may be created, changed or removed
 * outside `targetDir`:
 * - Entry names are cleaned lexically: leading "/" and "." components are
 *   dropped and ".." is resolved against the components seen so far, clamped
 *   at the root (as Docker does: "../../etc/x" becomes "etc/x").
 * - Parent directories are walked one component at a time with lstat. A
 *   symlink on the way (one from this layer, or any other) is resolved
 *   chroot-style: an absolute target starts again at `targetDir`, ".." stops
 *   at `targetDir`, and the walk continues on the resolved components. So a
 *   layer with `etc -> /etc` followed by `etc/passwd` writes
 *   `<targetDir>/etc/passwd`, exactly what a container would see.
 * - The last component of an entry is never followed: whatever is there is
 *   removed (unless directory over directory) and created afresh with
 *   O_EXCL / O_NOFOLLOW semantics.
 * - Hardlink targets are resolved the same way and must be regular files.
 * Concurrent writers inside `targetDir` are out of scope: the directory is
 * private to the snapshotter until this call returns.
 *
 * On failure the target is left half-written; the caller removes it (an
 * active snapshot is simply discarded). The input stream is consumed, and
 * destroyed if applying fails.
 */
import { execFile } from "node:child_process";
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, openSync, writeSync, type Stats } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readlink, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import tar, { type Header } from "tar-stream";
import { CancelledError, EngineError, FailedPreconditionError, InvalidArgumentError, messageOf } from "../errors.js";

export interface ApplyLayerOptions {
  signal?: AbortSignal;
}

export interface ApplyLayerResult {
  /** Bytes of the (uncompressed) tar stream that was applied. */
  size: number;
}

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";
export const OPAQUE_XATTR = "trusted.overlay.opaque";

/** Linux gives up after 40 symlinks in one lookup; so do we. */
const MAX_SYMLINK_HOPS = 40;

export async function applyLayer(
  tarStream: Readable,
  targetDir: string,
  opts: ApplyLayerOptions = {},
): Promise<ApplyLayerResult> {
  const { signal } = opts;
  if (signal?.aborted) throw new CancelledError(`applying layer to "${targetDir}" cancelled`, { cause: signal.reason });

  let size = 0;
  let tarError: Error | undefined;
  const extract = tar.extract();
  extract.on("error", (err: Error) => {
    tarError ??= err;
  });
  let sourceError: Error | undefined;
  const onSourceError = (err: Error): void => {
    sourceError ??= err;
    extract.destroy(err);
  };
  const onAbort = (): void => {
    extract.destroy(new CancelledError(`applying layer to "${targetDir}" cancelled`, { cause: signal?.reason }));
  };
  tarStream.on("data", (chunk: Buffer) => {
    size += chunk.length;
  });
  tarStream.on("error", onSourceError);
  signal?.addEventListener("abort", onAbort, { once: true });
  tarStream.pipe(extract as unknown as NodeJS.WritableStream);

  const writer = new LayerWriter(targetDir, signal);
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      await writer.apply(entry.header, entry);
    }
    await writer.finish();
    return { size };
  } catch (err) {
    tarStream.unpipe();
    tarStream.destroy();
    if (signal?.aborted) throw new CancelledError(`applying layer to "${targetDir}" cancelled`, { cause: err });
    // An entry's data stream breaks before the parser reports why; give it a turn to say so.
    await new Promise((resolve) => setImmediate(resolve));
    if (sourceError !== undefined) {
      throw sourceError instanceof EngineError
        ? sourceError
        : new EngineError(`reading layer for "${targetDir}": ${messageOf(sourceError)}`, { cause: sourceError });
    }
    const parseError = tarError;
    if (parseError instanceof EngineError) throw parseError;
    if (parseError !== undefined) throw new InvalidArgumentError(`invalid layer tar: ${messageOf(parseError)}`, { cause: err });
    if (err instanceof EngineError) throw err;
    throw new InvalidArgumentError(`invalid layer tar: ${messageOf(err)}`, { cause: err });
  } finally {
    tarStream.off("error", onSourceError);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Splits a tar entry name into clean components: no "", ".", or "..", and
 * never above the root.
 */
export function cleanEntryPath(name: string): string[] {
  const out: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out;
}

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** tar-stream's entry stream yields Buffers, though its types say unknown. */
type EntryStream = AsyncIterable<unknown>;

/** Overlay's whiteout: a character device with device number 0/0. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

class LayerWriter {
  readonly #root: string;
  readonly #signal: AbortSignal | undefined;
  /** Directory metadata, applied at the end so that writing their contents does not disturb it. */
  readonly #dirs = new Map<string, DirMeta>();
  /**
   * Paths (components joined by "/") known to be real directories with no
   * symlink on the way, so most entries resolve their parent without a
   * syscall. Only this writer changes the tree, and every removal clears it.
   */
  readonly #knownDirs = new Set<string>([""]);

  constructor(root: string, signal: AbortSignal | undefined) {
    this.#root = root;
    this.#signal = signal;
  }

  async apply(header: Header, stream: EntryStream): Promise<void> {
    try {
      await this.#apply(header, stream);
    } catch (err) {
      throw entryError(header.name, err);
    } finally {
      // The next entry can only be read once this one's data is consumed. A broken
      // stream shows up again, with a better message, when the next entry is read.
      await drain(stream).catch(() => undefined);
    }
  }

  /** Sets directory metadata. Order does not matter: changing a child's metadata leaves its parent's mtime alone. */
  async finish(): Promise<void> {
    const verified = new Map<string, boolean>();
    for (const [key, meta] of this.#dirs) {
      this.#signal?.throwIfAborted();
      const comps = key === "" ? [] : key.split("/");
      // The directory may have been replaced, or a parent swapped for a symlink, by a later entry.
      if (!(await this.#isPlainDir(comps, verified))) continue;
      const abs = this.#abs(comps);
      try {
        await lchown(abs, meta.uid, meta.gid);
        await chmod(abs, meta.mode);
        await lutimes(abs, meta.mtime, meta.mtime);
      } catch (err) {
        throw entryError(key === "" ? "." : key, err);
      }
    }
  }

  async #apply(header: Header, stream: EntryStream): Promise<void> {
    const comps = cleanEntryPath(header.name);
    const base = comps.at(-1);
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) return this.#whiteout(comps.slice(0, -1), base);

    if (base === undefined) {
      // The layer's root ("./"): only directory metadata makes sense here.
      if (header.type !== "directory") throw new InvalidArgumentError("entry resolves to the layer root but is not a directory");
      this.#dirs.set("", dirMeta(header));
      return;
    }

    const parent = await this.#resolveDir(comps.slice(0, -1), { create: true });
    const rel = [...parent, base];
    const abs = this.#abs(rel);

    // Resolve the hardlink target before anything at `abs` is removed.
    const linkTarget = header.type === "link" ? await this.#resolveLinkTarget(header.linkname) : undefined;
    if (linkTarget !== undefined && linkTarget === abs) throw new InvalidArgumentError("hardlink points to itself");

    if (header.type === "directory") {
      const existing = await this.#createOver(abs, () => mkdir(abs, { mode: 0o700 }), { keepDir: true });
      // A directory replacing a whiteout hides everything below it, as in a merged view.
      if (existing !== undefined && isWhiteout(existing)) await this.#setOpaque(abs);
      const key = rel.join("/");
      this.#knownDirs.add(key);
      this.#dirs.set(key, dirMeta(header));
      return;
    }

    let create: () => Promise<unknown>;
    switch (header.type) {
      case "file":
      case "contiguous-file":
        create = () => writeFile(abs, stream, header);
        break;
      case "symlink":
        create = () => symlink(header.linkname, abs);
        break;
      case "link":
        // The inode already carries the target's metadata; touching it would change the target too.
        await this.#createOver(abs, () => link(linkTarget as string, abs));
        return;
      case "character-device":
        create = () => this.#mknod(abs, ["c", String(header.devmajor), String(header.devminor)]);
        break;
      case "block-device":
        create = () => this.#mknod(abs, ["b", String(header.devmajor), String(header.devminor)]);
        break;
      case "fifo":
        create = () => this.#mknod(abs, ["p"]);
        break;
      default:
        // Unknown entry types carry nothing a container can use; skip them like Docker does.
        return;
    }
    await this.#createOver(abs, create);
    if (header.type === "file" || header.type === "contiguous-file") return; // metadata set through the open file
    // chown clears setuid/setgid, so the mode comes after it.
    if (needsChown(header)) await lchown(abs, header.uid, header.gid);
    if (header.type !== "symlink") await chmod(abs, header.mode & 0o7777);
    await lutimes(abs, header.mtime, header.mtime);
  }

  /**
   * Creates an entry with `create`, which must fail with EEXIST rather than
   * follow or reuse what is there. On EEXIST the old entry is removed (a
   * directory is kept when `keepDir`) and creation retried. Trying first saves
   * an lstat per entry in the common case: a fresh name. Returns what was there.
   */
  async #createOver(abs: string, create: () => Promise<unknown>, opts: { keepDir?: boolean } = {}): Promise<Stats | undefined> {
    try {
      await create();
      return undefined;
    } catch (err) {
      if (errnoCode(err) !== "EEXIST" && !(err instanceof ToolExistsError)) throw err;
    }
    const existing = await lstat(abs);
    if (opts.keepDir && existing.isDirectory()) return existing;
    await this.#remove(abs);
    await create();
    return existing;
  }

  /** Removes an entry (recursively, never following symlinks) and forgets what we knew about directories. */
  async #remove(abs: string): Promise<void> {
    this.#knownDirs.clear();
    await rm(abs, { recursive: true, force: true });
  }

  async #whiteout(parentComps: string[], base: string): Promise<void> {
    const parent = await this.#resolveDir(parentComps, { create: true });
    if (base === OPAQUE_WHITEOUT) return this.#setOpaque(this.#abs(parent));
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === ".." || name.startsWith(WHITEOUT_PREFIX)) {
      throw new InvalidArgumentError(`whiteout names no file ("${name}")`);
    }
    const abs = this.#abs([...parent, name]);
    // OCI: a whiteout hides only lower layers; a file this layer already wrote stays.
    if ((await lstatOrUndefined(abs)) !== undefined) return;
    await this.#mknod(abs, ["c", "0", "0"], "0000");
  }

  /**
   * Resolves directory components to a real directory inside the root, with
   * no symlink anywhere on the returned path. Symlinks are followed
   * chroot-style; missing directories are created when `create` is set.
   */
  async #resolveDir(comps: readonly string[], opts: { create: boolean }): Promise<string[]> {
    const resolved: string[] = [];
    const todo = [...comps];
    let hops = 0;
    for (let part = todo.shift(); part !== undefined; part = todo.shift()) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        resolved.pop();
        continue;
      }
      const key = resolved.length === 0 ? part : `${resolved.join("/")}/${part}`;
      if (this.#knownDirs.has(key)) {
        resolved.push(part);
        continue;
      }
      const abs = this.#abs([...resolved, part]);
      const st = await lstatOrUndefined(abs);
      if (st === undefined) {
        if (!opts.create) throw new InvalidArgumentError(`"${key}" does not exist in the layer`);
        await mkdir(abs, { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new InvalidArgumentError("too many levels of symbolic links");
        const target = await readlink(abs);
        if (target.startsWith("/")) resolved.length = 0;
        todo.unshift(...target.split("/"));
        continue;
      } else if (isWhiteout(st) && opts.create) {
        // Files under a path this layer deleted: the directory is new, and hides the lower one.
        await this.#remove(abs);
        await mkdir(abs, { mode: 0o755 });
        await this.#setOpaque(abs);
      } else if (!st.isDirectory()) {
        throw new InvalidArgumentError(`"${key}" is not a directory`);
      }
      this.#knownDirs.add(key);
      resolved.push(part);
    }
    return resolved;
  }

  /** A hardlink target: resolved like any path, and it must be a regular file already in the layer. */
  async #resolveLinkTarget(linkname: string): Promise<string> {
    const comps = cleanEntryPath(linkname);
    const base = comps.at(-1);
    if (base === undefined) throw new InvalidArgumentError(`hardlink target "${linkname}" is the layer root`);
    const parent = await this.#resolveDir(comps.slice(0, -1), { create: false }).catch((err: unknown) => {
      throw new InvalidArgumentError(`hardlink target "${linkname}" not found in the layer: ${messageOf(err)}`, { cause: err });
    });
    const abs = this.#abs([...parent, base]);
    const st = await lstatOrUndefined(abs);
    if (st === undefined) throw new InvalidArgumentError(`hardlink target "${linkname}" not found in the layer`);
    if (!st.isFile()) throw new InvalidArgumentError(`hardlink target "${linkname}" is not a regular file`);
    return abs;
  }

  async #isPlainDir(comps: readonly string[], verified: Map<string, boolean>): Promise<boolean> {
    for (let i = 0; i <= comps.length; i++) {
      const key = comps.slice(0, i).join("/");
      let ok = verified.get(key);
      if (ok === undefined) {
        const st = await lstatOrUndefined(this.#abs(comps.slice(0, i)));
        ok = st !== undefined && st.isDirectory();
        verified.set(key, ok);
      }
      if (!ok) return false;
    }
    return true;
  }

  #abs(comps: readonly string[]): string {
    return join(this.#root, ...comps);
  }

  async #setOpaque(abs: string): Promise<void> {
    await runTool("setfattr", ["-h", "-n", OPAQUE_XATTR, "-v", "y", "--", abs], this.#signal);
  }

  // Node has no mknod(2); coreutils' mknod does it (rare entries: whiteouts and devices).
  async #mknod(abs: string, spec: string[], mode = "0600"): Promise<void> {
    await runTool("mknod", ["-m", mode, "--", abs, ...spec], this.#signal);
  }
}

function dirMeta(header: Header): DirMeta {
  return { mode: header.mode & 0o7777, uid: header.uid, gid: header.gid, mtime: header.mtime };
}

/** Writes a regular file and its metadata through one descriptor (O_EXCL: never reuses or follows what is there). */
async function writeFile(abs: string, stream: EntryStream, header: Header): Promise<void> {
  const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for await (const chunk of stream) writeAllSync(fd, chunk as Uint8Array);
    // chown clears setuid/setgid, so the mode comes after it.
    if (needsChown(header)) fchownSync(fd, header.uid, header.gid);
    fchmodSync(fd, header.mode & 0o7777);
    futimesSync(fd, header.mtime, header.mtime);
  } finally {
    closeSync(fd);
  }
}

function writeAllSync(fd: number, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
}

const EUID = process.geteuid?.() ?? -1;
const EGID = process.getegid?.() ?? -1;

/**
 * New entries belong to our effective ids already (directories get no
 * setgid bit until the end), so the common root:root entry skips a syscall.
 */
function needsChown(header: Header): boolean {
  return header.uid !== EUID || header.gid !== EGID;
}

async function drain(stream: EntryStream): Promise<void> {
  for await (const _ of stream) {
    // discard
  }
}

async function lstatOrUndefined(abs: string): Promise<Stats | undefined> {
  try {
    return await lstat(abs);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

/** Errors that mean "this tar cannot be applied" rather than "the machine is unwell". */
const MALFORMED_CODES = new Set(["ENOTDIR", "EEXIST", "ELOOP", "ENAMETOOLONG", "EINVAL", "EISDIR", "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_TYPE"]);

function entryError(name: string, err: unknown): EngineError {
  if (err instanceof CancelledError) return err;
  const message = `layer entry "${name}": ${messageOf(err)}`;
  if (err instanceof InvalidArgumentError) return new InvalidArgumentError(message, { cause: err });
  if (err instanceof EngineError) return new EngineError(message, { cause: err, code: err.code });
  const code = errnoCode(err);
  if (code !== undefined && MALFORMED_CODES.has(code)) return new InvalidArgumentError(message, { cause: err });
  return new EngineError(message, { cause: err });
}

/** A helper tool refused to create a path because something is already there (its EEXIST). */
class ToolExistsError extends EngineError {}

/** Runs a small helper binary, naming the package to install when it is missing. */
export async function runTool(
  cmd: string,
  args: string[],
  signal: AbortSignal | undefined,
  encoding: BufferEncoding = "utf8",
): Promise<string> {
  return new Promise((resolve, reject) => {
    // LC_ALL=C: error messages are matched below.
    execFile(cmd, args, { encoding, maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: "C" }, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      if (signal?.aborted) return reject(new CancelledError(`${cmd} cancelled`, { cause: err }));
      if (errnoCode(err) === "ENOENT") {
        const pkg = cmd === "mknod" ? "coreutils" : "attr";
        return reject(new FailedPreconditionError(`"${cmd}" not found: install the Debian package "${pkg}"`, { cause: err }));
      }
      const message = `${cmd} ${args.join(" ")}: ${stderr.trim() || messageOf(err)}`;
      if (/File exists/.test(stderr)) return reject(new ToolExistsError(message, { cause: err }));
      reject(new EngineError(message, { cause: err }));
    });
  });
}
