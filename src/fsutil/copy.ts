/**
 * Copying between filesystem trees (a snapshot view into an active snapshot,
 * a client's upload into a snapshot): metadata preserved, hardlinks kept,
 * include/exclude filters applied, and nothing ever written outside the
 * destination root — an existing symlink in the destination is replaced,
 * never followed.
 */

import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { mkdirInRoot, resolveInRoot } from "./in-root.js";
import type { PathFilter } from "./path-filter.js";

export interface CopyOptions {
  filter?: PathFilter;
  /** chown everything copied to this owner. */
  owner?: { uid: number; gid: number };
  /** Mode for everything copied (files and directories). */
  permissions?: number;
}

/**
 * Copy `srcPath` of `srcRoot` to `dstPath` of `dstRoot`. A directory's
 * contents are merged into the destination directory; a file becomes the
 * destination file, or goes into it when the destination is an existing
 * directory (as `cp`, BuildKit's copy and so Dagger's withFile do).
 */
export async function copyPath(srcRoot: string, srcPath: string, dstRoot: string, dstPath: string, opts: CopyOptions = {}): Promise<void> {
  const src = await resolveInRoot(srcRoot, srcPath, { followLast: true });
  let st: import("node:fs").Stats;
  try {
    st = await fs.lstat(src);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`lstat ${srcPath}: no such file or directory`);
    throw err;
  }
  if (st.isDirectory()) {
    const dst = await mkdirInRoot(dstRoot, dstPath);
    const copier = new TreeCopier(opts);
    await copier.copyDirContents(src, dst, "");
    if (opts.permissions !== undefined) await fs.chmod(dst, opts.permissions);
    await copier.finish();
    return;
  }
  await mkdirInRoot(dstRoot, path.posix.dirname(path.posix.resolve("/", dstPath)));
  let dst = await resolveInRoot(dstRoot, dstPath);
  if ((await fs.lstat(dst).catch(() => undefined))?.isDirectory()) {
    dst = await resolveInRoot(dstRoot, path.posix.join(path.posix.resolve("/", dstPath), path.posix.basename(srcPath)));
  }
  const copier = new TreeCopier(opts);
  await copier.copyEntry(src, dst, path.posix.basename(srcPath), st);
  if (opts.permissions !== undefined) await fs.chmod(dst, opts.permissions);
  await copier.finish();
}

class TreeCopier {
  readonly #opts: CopyOptions;
  /** Source inode → first destination path, to recreate hardlinks. */
  readonly #links = new Map<string, string>();
  /** Directory times are set last: writing into a directory changes them. */
  readonly #dirTimes: Array<[string, Date, Date]> = [];

  constructor(opts: CopyOptions) {
    this.#opts = opts;
  }

  async copyDirContents(src: string, dst: string, rel: string): Promise<void> {
    const entries = await fs.readdir(src);
    for (const name of entries) {
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await fs.lstat(path.join(src, name));
      const filter = this.#opts.filter;
      if (filter) {
        if (st.isDirectory()) {
          if (!filter.mayDescend(childRel)) continue;
          if (!filter.selects(childRel)) {
            // Not selected itself, but something inside may be: walk without creating.
            await this.#copySelectedInside(path.join(src, name), dst, childRel, name);
            continue;
          }
        } else if (!filter.selects(childRel)) continue;
      }
      await this.copyEntry(path.join(src, name), path.join(dst, name), childRel, st);
    }
  }

  /** Copy what a filter selects below an unselected directory, creating parents on demand. */
  async #copySelectedInside(src: string, dstParent: string, rel: string, name: string): Promise<void> {
    const dst = path.join(dstParent, name);
    let created = false;
    for (const child of await fs.readdir(src)) {
      const childRel = `${rel}/${child}`;
      const st = await fs.lstat(path.join(src, child));
      const filter = this.#opts.filter!;
      if (st.isDirectory() && !filter.selects(childRel)) {
        if (filter.mayDescend(childRel)) await this.#copySelectedInside(path.join(src, child), dst, childRel, child);
        continue;
      }
      if (!filter.selects(childRel)) continue;
      if (!created) {
        await this.#makeDir(dst, await fs.lstat(src));
        created = true;
      }
      await this.copyEntry(path.join(src, child), path.join(dst, child), childRel, st);
    }
  }

  async copyEntry(src: string, dst: string, rel: string, st: import("node:fs").Stats): Promise<void> {
    if (st.isDirectory()) {
      await this.#makeDir(dst, st);
      await this.copyDirContents(src, dst, rel);
      return;
    }
    await removeNonDir(dst, rel);
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && !st.isDirectory()) {
      const first = this.#links.get(key);
      if (first) {
        await fs.link(first, dst);
        return;
      }
      this.#links.set(key, dst);
    }
    if (st.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(src), dst);
    } else if (st.isFile()) {
      await fs.copyFile(src, dst, constants.COPYFILE_FICLONE);
      await fs.chmod(dst, this.#opts.permissions ?? st.mode & 0o7777);
    } else {
      // Devices, fifos and sockets have no place in a copied tree.
      return;
    }
    await this.#own(dst, st);
    await fs.lutimes(dst, st.atime, st.mtime);
  }

  async #makeDir(dst: string, st: import("node:fs").Stats): Promise<void> {
    let existing: import("node:fs").Stats | undefined;
    try {
      existing = await fs.lstat(dst);
    } catch {
      existing = undefined;
    }
    if (existing && !existing.isDirectory()) {
      await fs.rm(dst, { force: true });
      existing = undefined;
    }
    if (!existing) await fs.mkdir(dst);
    await fs.chmod(dst, this.#opts.permissions ?? st.mode & 0o7777);
    await this.#own(dst, st);
    this.#dirTimes.push([dst, st.atime, st.mtime]);
  }

  async #own(dst: string, st: import("node:fs").Stats): Promise<void> {
    const owner = this.#opts.owner ?? { uid: st.uid, gid: st.gid };
    await fs.lchown(dst, owner.uid, owner.gid);
  }

  async finish(): Promise<void> {
    for (const [dir, atime, mtime] of this.#dirTimes.reverse()) await fs.utimes(dir, atime, mtime);
  }
}

async function removeNonDir(p: string, rel: string): Promise<void> {
  try {
    const st = await fs.lstat(p);
    if (st.isDirectory()) throw new FailedPreconditionError(`cannot replace directory "${rel}" with a file`);
    await fs.rm(p, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
