/**
 * Path resolution inside a root directory, the way a chroot would see it:
 * absolute symlink targets start at the root and `..` stops at the root, so a
 * path inside a container's filesystem can never name a file outside it.
 * Every component is checked with lstat; no string-prefix tests.
 */
import { lstatSync, readlinkSync, type Stats } from "node:fs";
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
  const resolved = await walkInRoot(root, p, { followLast: opts.followLast ?? false });
  return path.join(root, ...(resolved ?? []));
}

export interface WalkInRootOptions {
  /** Follow a symlink in the last component too (otherwise it is kept as it is, without an lstat). */
  followLast?: boolean;
  /**
   * Keys ("a/b", resolved components joined by "/") the caller knows to be
   * real directories; they are taken without an lstat.
   */
  isKnownDir?: (key: string) => boolean;
  /**
   * Called for every component reached that is not a symlink, with its host
   * path, its key and its lstat (undefined when nothing is there). It may
   * create or replace what is there, or throw to refuse it; returning false
   * stops the walk, and walkInRoot returns undefined.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: visitors may return nothing, sync or async
  visit?: (abs: string, key: string, st: Stats | undefined) => boolean | void | Promise<boolean | void>;
}

/**
 * The walk behind resolveInRoot, for callers that check or create what they
 * pass through (layer unpacking). Returns the resolved components of `p`
 * (a path, or components already split) below `root`.
 *
 * Filesystem calls are synchronous on purpose: each is one short lstat, and
 * a round trip through libuv's threadpool costs far more than the call
 * (applying a large layer walks every entry's parents).
 */
export async function walkInRoot(root: string, p: string | readonly string[], opts: WalkInRootOptions = {}): Promise<string[] | undefined> {
  const pending = typeof p === "string" ? splitPath(p) : p.filter((c) => c !== "" && c !== ".");
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    if (pending.length === 0 && !opts.followLast) {
      resolved.push(part);
      break;
    }
    const key = resolved.length === 0 ? part : `${resolved.join("/")}/${part}`;
    if (opts.isKnownDir?.(key)) {
      resolved.push(part);
      continue;
    }
    const abs = path.join(root, key);
    const st = lstatOrUndefined(abs);
    if (st?.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) {
        throw new InvalidArgumentError(`too many levels of symbolic links in "${typeof p === "string" ? p : p.join("/")}"`);
      }
      const target = readlinkSync(abs);
      if (target.startsWith("/")) resolved.length = 0;
      pending.unshift(...splitPath(target));
      continue;
    }
    if (opts.visit !== undefined) {
      let ok = opts.visit(abs, key, st);
      if (ok instanceof Promise) ok = await ok;
      if (ok === false) return undefined;
    }
    resolved.push(part);
  }
  return resolved;
}

function lstatOrUndefined(abs: string): Stats | undefined {
  try {
    return lstatSync(abs, { throwIfNoEntry: false });
  } catch (err) {
    // A file in the way of a missing path: nothing is there either.
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
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
      if (!st.isDirectory()) throw new InvalidArgumentError(`mkdir ${current}: not a directory (a file is in the way)`);
    }
  }
  return resolveInRoot(root, p, { followLast: true });
}
