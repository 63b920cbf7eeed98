/**
 * Writes the entries of one layer tar into a directory (see apply-layer.ts
 * for the two whiteout modes): `applyLayer` feeds it entry by entry, then
 * calls `finish` to set directory metadata.
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
 * - Whiteouts resolve their directory the same way; the named file is
 *   removed without following it.
 * Concurrent writers inside `targetDir` are out of scope: the directory is
 * private to the snapshotter until this call returns.
 *
 * Syscalls. Per-entry filesystem calls (open, mkdir, lstat, fchown, ...) are
 * synchronous on purpose: each is one short syscall, and a round trip through
 * libuv's threadpool cost far more than the call itself (a 700 MB, 62k-entry
 * layer applied about 3x slower with fs/promises, and ~1.5x GNU tar with
 * sync calls). The event loop still gets a turn between every chunk of the
 * tar stream, so one big layer does not stall other sessions for long. Only
 * large pieces of file data are written on the thread pool (see writeFile in
 * entry-files.ts).
 * Overlay whiteouts, devices and xattrs go through child processes (mknod,
 * setfattr), which Node cannot do itself.
 */
import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, type Stats, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Header } from "tar-stream";
import { InvalidArgumentError, messageOf } from "../errors.js";
import { walkInRoot } from "../fsutil/in-root.js";
import { entryError, errnoCode } from "./entry-errors.js";
import { drain, type EntryStream, lstatOrUndefined, needsChown, writeFile } from "./entry-files.js";
import { isWhiteout, OPAQUE_WHITEOUT, OPAQUE_XATTR, runTool, ToolExistsError, WHITEOUT_PREFIX } from "./overlay-format.js";
import { MAX_LINK_TARGET } from "./pax.js";

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

export class LayerWriter {
  readonly #root: string;
  readonly #signal: AbortSignal | undefined;
  /** Whiteouts in overlayfs's format (true), or applied by deleting through a merged view. */
  readonly #overlayWhiteouts: boolean;
  /**
   * "delete" mode only: keys of every path this layer wrote (entries and the
   * parents it created), which whiteouts must not remove.
   */
  readonly #written: Set<string> | undefined;
  /** Directory metadata, applied at the end so that writing their contents does not disturb it. */
  readonly #dirs = new Map<string, DirMeta>();
  /**
   * Paths (components joined by "/") known to be real directories with no
   * symlink on the way, so most entries resolve their parent without a
   * syscall. Only this writer changes the tree, and every removal clears it.
   */
  readonly #knownDirs = new Set<string>([""]);

  constructor(root: string, whiteouts: "overlay" | "delete", signal: AbortSignal | undefined) {
    this.#root = root;
    this.#signal = signal;
    this.#overlayWhiteouts = whiteouts === "overlay";
    this.#written = whiteouts === "delete" ? new Set() : undefined;
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
        lchownSync(abs, meta.uid, meta.gid);
        chmodSync(abs, meta.mode);
        lutimesSync(abs, meta.mtime, meta.mtime);
      } catch (err) {
        throw entryError(key === "" ? "." : key, err);
      }
    }
  }

  async #apply(header: Header, stream: EntryStream): Promise<void> {
    const comps = cleanEntryPath(header.name);
    const base = comps.at(-1);
    if (base?.startsWith(WHITEOUT_PREFIX)) return this.#whiteout(comps.slice(0, -1), base);

    if (base === undefined) {
      // The layer's root ("./"): only directory metadata makes sense here.
      if (header.type !== "directory") throw new InvalidArgumentError("entry resolves to the layer root but is not a directory");
      this.#dirs.set("", dirMeta(header));
      return;
    }

    const parent = (await this.#resolveDir(comps.slice(0, -1), { create: true })) as string[]; // never undefined when creating
    const rel = [...parent, base];
    const key = rel.join("/");
    const abs = this.#abs(rel);

    // Resolve the hardlink target before anything at `abs` is removed.
    const linkTarget = header.type === "link" ? await this.#resolveLinkTarget(header.linkname) : undefined;
    if (linkTarget !== undefined && linkTarget === abs) throw new InvalidArgumentError("hardlink points to itself");

    if (header.type === "directory") {
      const existing = await this.#createOver(abs, async () => mkdirSync(abs, { mode: 0o700 }), { keepDir: true });
      // A directory replacing a whiteout hides everything below it, as in a merged view.
      if (this.#overlayWhiteouts && existing !== undefined && isWhiteout(existing)) await this.#setOpaque(abs);
      this.#written?.add(key);
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
        if (Buffer.byteLength(header.linkname ?? "") > MAX_LINK_TARGET) {
          throw new InvalidArgumentError(`symlink target too long (${Buffer.byteLength(header.linkname ?? "")} bytes; Linux allows ${MAX_LINK_TARGET})`);
        }
        create = async () => symlinkSync(header.linkname, abs);
        break;
      case "link":
        // The inode already carries the target's metadata; touching it would change the target too.
        await this.#createOver(abs, async () => linkSync(linkTarget as string, abs));
        this.#written?.add(key);
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
    this.#written?.add(key);
    if (header.type === "file" || header.type === "contiguous-file") return; // metadata set through the open file
    // chown clears setuid/setgid, so the mode comes after it.
    if (needsChown(header)) lchownSync(abs, header.uid, header.gid);
    if (header.type !== "symlink") chmodSync(abs, header.mode & 0o7777);
    lutimesSync(abs, header.mtime, header.mtime);
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
    const existing = lstatSync(abs);
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
    const opaque = base === OPAQUE_WHITEOUT;
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (!opaque && (name === "" || name === "." || name === ".." || name.startsWith(WHITEOUT_PREFIX))) {
      throw new InvalidArgumentError(`whiteout names no file ("${name}")`);
    }
    // An opaque directory exists in this layer, so it is created like any parent. In "delete" mode a
    // whiteout under a missing directory has nothing to hide, and creates nothing.
    const parent = await this.#resolveDir(parentComps, { create: opaque || this.#overlayWhiteouts });
    if (parent === undefined) return;
    if (opaque) return this.#overlayWhiteouts ? this.#setOpaque(this.#abs(parent)) : this.#removeLower(parent);

    const rel = [...parent, name];
    const abs = this.#abs(rel);
    // OCI: a whiteout hides only lower layers; a file this layer already wrote stays.
    if (this.#written !== undefined) {
      if (!this.#written.has(rel.join("/"))) await this.#remove(abs);
      return;
    }
    if (lstatOrUndefined(abs) !== undefined) return;
    await this.#mknod(abs, ["c", "0", "0"], "0000");
  }

  /**
   * "delete" mode's opaque marker: removes everything below `dirComps` that
   * this layer did not write. When the marker comes first (it sorts first, and
   * layer writers put it there), that is every child of the directory.
   */
  async #removeLower(dirComps: readonly string[]): Promise<void> {
    for (const name of readdirSync(this.#abs(dirComps))) {
      this.#signal?.throwIfAborted();
      const rel = [...dirComps, name];
      if (!this.#written?.has(rel.join("/"))) await this.#remove(this.#abs(rel));
      else if (lstatSync(this.#abs(rel)).isDirectory()) await this.#removeLower(rel);
    }
  }

  /**
   * Resolves directory components to a real directory inside the root, with
   * no symlink anywhere on the returned path. Symlinks are followed
   * chroot-style (walkInRoot); missing directories are created when `create`
   * is set, and otherwise make the result undefined.
   */
  async #resolveDir(comps: readonly string[], opts: { create: boolean }): Promise<string[] | undefined> {
    return walkInRoot(this.#root, comps, {
      followLast: true,
      isKnownDir: (key) => this.#knownDirs.has(key),
      visit: (abs, key, st) => {
        if (st === undefined) {
          if (!opts.create) return false;
          mkdirSync(abs, { mode: 0o755 });
          this.#written?.add(key);
        } else if (this.#overlayWhiteouts && isWhiteout(st) && opts.create) {
          // Files under a path this layer deleted: the directory is new, and hides the lower one.
          return this.#replaceWhiteoutWithDir(abs, key);
        } else if (!st.isDirectory()) {
          throw new InvalidArgumentError(`"${key}" is not a directory`);
        }
        this.#knownDirs.add(key);
        return true;
      },
    });
  }

  async #replaceWhiteoutWithDir(abs: string, key: string): Promise<void> {
    await this.#remove(abs);
    mkdirSync(abs, { mode: 0o755 });
    await this.#setOpaque(abs);
    this.#knownDirs.add(key);
  }

  /** A hardlink target: resolved like any path, and it must be a regular file already in the layer. */
  async #resolveLinkTarget(linkname: string): Promise<string> {
    const comps = cleanEntryPath(linkname);
    const base = comps.at(-1);
    if (base === undefined) throw new InvalidArgumentError(`hardlink target "${linkname}" is the layer root`);
    const parent = await this.#resolveDir(comps.slice(0, -1), { create: false }).catch((err: unknown) => {
      throw new InvalidArgumentError(`hardlink target "${linkname}" not found in the layer: ${messageOf(err)}`, { cause: err });
    });
    const abs = parent === undefined ? undefined : this.#abs([...parent, base]);
    const st = abs === undefined ? undefined : lstatOrUndefined(abs);
    if (abs === undefined || st === undefined) throw new InvalidArgumentError(`hardlink target "${linkname}" not found in the layer`);
    if (!st.isFile()) throw new InvalidArgumentError(`hardlink target "${linkname}" is not a regular file`);
    return abs;
  }

  async #isPlainDir(comps: readonly string[], verified: Map<string, boolean>): Promise<boolean> {
    for (let i = 0; i <= comps.length; i++) {
      const key = comps.slice(0, i).join("/");
      let ok = verified.get(key);
      if (ok === undefined) {
        const st = lstatOrUndefined(this.#abs(comps.slice(0, i)));
        ok = st?.isDirectory() === true;
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
