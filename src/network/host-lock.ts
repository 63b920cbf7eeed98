/**
 * A lock shared by every engine on this host, for changes to host-wide state
 * that must not interleave: the CNI firewall plugin's shared chains are
 * created by one engine's ADD and removed by another's cleanup. The lock is a
 * file created exclusively; one whose owner process is gone is stale.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "../util/process.js";

const LOCK_DIR = "/run/tanto-locks";

export async function withHostLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(LOCK_DIR, { recursive: true });
  const file = path.join(LOCK_DIR, `${name}.lock`);
  const token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
  await removeDeadTakers(name);
  // The lock appears with its owner already written in it: written aside, then linked into place.
  const mine = `${file}.${process.pid}.${token.split(":")[1]}`;
  await fs.writeFile(mine, token);
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      await fs.link(mine, file);
      await fs.rm(mine, { force: true });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number((await fs.readFile(file, "utf8").catch(() => "")).split(":")[0]);
      // An unreadable owner (a lock file from an older engine) is stale once it is a few seconds old.
      const stale = owner > 0 ? !isProcessAlive(owner) : await olderThan(file, 3000);
      if (stale) {
        await fs.rm(file, { force: true });
        continue;
      }
      await sleep(delay);
    }
  }
  try {
    return await fn();
  } finally {
    // Only our own lock is removed (a stale-lock takeover may have replaced it).
    if ((await fs.readFile(file, "utf8").catch(() => "")) === token) await fs.rm(file, { force: true });
  }
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  const st = await fs.stat(file).catch(() => undefined);
  return st === undefined || Date.now() - st.mtimeMs > ms;
}

/** Files written aside by takers that died before linking or removing them (`<name>.lock.<pid>.<random>`). */
async function removeDeadTakers(name: string): Promise<void> {
  const prefix = `${name}.lock.`;
  for (const entry of await fs.readdir(LOCK_DIR).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length).split(".")[0]);
    if (pid > 0 && !isProcessAlive(pid)) await fs.rm(path.join(LOCK_DIR, entry), { force: true });
  }
}
