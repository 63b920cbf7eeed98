import { readFileSync } from "node:fs";

/**
 * Whether a process exists and still runs (EPERM means it does, just not ours
 * to signal). A zombie — killed, not yet reaped by its parent — is not alive:
 * right after a kill -9 the dead engine lingers as one until its parent waits.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}

/** The state letter in /proc/<pid>/stat is Z (zombie) or X (dead). */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    // Gone between the signal and the read: dead. Any other failure: trust the signal.
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
  // "pid (comm) S …": comm may hold spaces and parentheses, so read after the last ")".
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state === "Z" || state === "X";
}
