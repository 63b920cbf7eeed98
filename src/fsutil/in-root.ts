/**
 * Path resolution inside a root directory, the way a chroot would see it:
 * absolute symlink targets start at the root and `..` stops at the root, so a
 * path inside a container's filesystem can never name a file outside it.
 * Every component is checked with lstat; no string-prefix tests.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";

const MAX_SYMLINKS = 40;

/**
 * The host path of `p` inside `root`. Symlinks in the parents are followed
 * (inside the root); the last component is followed only when `followLast`.
 * Components that do not exist are kept as they are.
 */
export async function resolveInRoot(root: string, p: string, opts: { followLast?: boolean } = {}): Promise<string> {
  const pending = splitPath(p);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    const isLast = pending.length === 0;
    if (isLast && !opts.followLast) {
      resolved.push(part);
      break;
    }
    let target: string | undefined;
    try {
      const st = await fs.lstat(candidate);
      if (st.isSymbolicLink()) target = await fs.readlink(candidate);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" && (err as NodeJS.ErrnoException).code !== "ENOTDIR") throw err;
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new InvalidArgumentError(`too many levels of symbolic links in "${p}"`);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...splitPath(target));
  }
  return path.join(root, ...resolved);
}

/** Components of a path, without empty and "." parts. */
export function splitPath(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

/** Normalise a container path to an absolute, clean form ("a/../b" → "/b"). */
export function cleanPath(p: string, cwd = "/"): string {
  return path.posix.resolve("/", cwd, p);
}

/** Create the directories of `p` inside `root` like `mkdir -p`, never leaving the root. */
export async function mkdirInRoot(root: string, p: string, mode = 0o755): Promise<string> {
  let current = "";
  for (const part of splitPath(cleanPath(p))) {
    current = path.posix.join(current, part);
    const host = await resolveInRoot(root, current, { followLast: true });
    try {
      await fs.mkdir(host, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = await fs.stat(host);
      if (!st.isDirectory()) throw new InvalidArgumentError(`cannot create directory "${current}": a file is in the way`);
    }
  }
  return resolveInRoot(root, p, { followLast: true });
}
