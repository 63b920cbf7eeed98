/**
 * The state directory is private to root. Snapshots hold the files of pulled
 * images and exec outputs exactly as the containers see them (setuid-root
 * programs included) and metadata.db holds cached outputs, so no other user
 * of the host may traverse into it: the root is 0700, and so is every
 * directory the engine keeps directly under it (files 0600), as a second
 * fence if the root's mode is ever widened by hand.
 *
 * Applied on every start, so a root made by an older engine (0711, with
 * 0755 directories) is closed too.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError } from "../errors.js";
import { isProcessAlive } from "../util/process.js";

/** What the engine keeps directly under its root, by kind. */
const DIRS = ["content", "snapshots", "volumes", "git", "hostsync", "network", "runc", "run"] as const;
const FILES = ["metadata.db", "metadata.db-wal", "metadata.db-shm", "secret-salt", "engine.pid"] as const;

/** Create the root if needed and close it and what lies directly under it to other users. */
export async function secureStateDir(root: string): Promise<void> {
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  await fs.chmod(root, 0o700);
  // At once: a start runs this twice, and each awaited call is a trip through libuv's thread pool.
  await Promise.all([
    ...DIRS.map((name) => chmodIfPresent(path.join(root, name), 0o700, "dir")),
    ...FILES.map((name) => chmodIfPresent(path.join(root, name), 0o600, "file")),
  ]);
}

/** The mode check a caller can make after start (tests, `engine debug`): entries open to group or others. */
export async function openToOthers(root: string): Promise<string[]> {
  const open: string[] = [];
  for (const name of ["", ...DIRS, ...FILES]) {
    const p = path.join(root, name);
    const st = await fs.lstat(p).catch(() => undefined);
    if (st && (st.mode & 0o077) !== 0) open.push(`${p} (${(st.mode & 0o7777).toString(8)})`);
  }
  return open;
}

async function chmodIfPresent(p: string, mode: number, kind: "dir" | "file"): Promise<void> {
  const st = await fs.lstat(p).catch(() => undefined);
  if (!st) return;
  // Never follow a symlink someone planted: only the engine's own entries are changed.
  if (kind === "dir" ? !st.isDirectory() : !st.isFile()) return;
  if ((st.mode & 0o777) !== mode) await fs.chmod(p, mode);
}

const PID_FILE = "engine.pid";

/** The salt of secrets' HMACs: random, made once, readable by root only. */
export async function secretSalt(root: string): Promise<Buffer> {
  const file = path.join(root, "secret-salt");
  try {
    const salt = await fs.readFile(file);
    if (salt.length === 32) return salt;
  } catch {
    // first start
  }
  const salt = randomBytes(32);
  const tmp = `${file}.${process.pid}`;
  await fs.writeFile(tmp, salt, { mode: 0o600 });
  await fs.rename(tmp, file);
  return salt;
}

/**
 * One engine per state directory: the pid file names the owner; a pid file
 * whose process is gone is left over from a crash and taken over.
 */
export async function claimRoot(root: string): Promise<void> {
  const file = path.join(root, PID_FILE);
  const owner = Number((await fs.readFile(file, "utf8").catch(() => "")).trim());
  if (owner && owner !== process.pid && isProcessAlive(owner)) {
    throw new FailedPreconditionError(`state directory ${root} is in use by another engine (pid ${owner})`);
  }
  await fs.writeFile(file, `${process.pid}\n`);
}

/** The engine's stop: the state directory is free for the next one. */
export async function releaseRoot(root: string): Promise<void> {
  await fs.rm(path.join(root, PID_FILE), { force: true });
}
