/**
 * Named network namespaces with iproute2: `ip netns add` creates the
 * namespace and bind-mounts it at /run/netns/<name>, which keeps it alive
 * with no process in it and gives it a path runc can join. A name is what
 * makes a namespace findable after a crash, so every name this engine uses
 * starts with its own prefix.
 */
import * as fsSync from "node:fs";
import * as fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { EngineError } from "../errors.js";
import { mustRun, runCommand } from "./command.js";

export const NETNS_DIR = "/run/netns";

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

export async function addNetns(name: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
  await mustRun("ip", ["netns", "add", name], opts);
  return netnsPath(name);
}

/** Unmount and remove a namespace's name; the kernel frees it once no process is left in it. Absent is fine. */
export async function deleteNetns(name: string): Promise<void> {
  const r = await runCommand("ip", ["netns", "delete", name]);
  if (r.code === 0) return;
  try {
    await fs.stat(netnsPath(name));
  } catch {
    return;
  }
  throw new EngineError(`cannot delete network namespace "${name}": ${r.stderr.trim()}`);
}

/**
 * Remove many namespaces with one `ip -batch` (an `ip` process each would take
 * seconds for a hundred). The kernel then frees them, and with them their
 * links, in one batch of its own (60 namespaces: ~0.2 s, where deleting their
 * links one by one takes ~2 s); `links`, the host ends of theirs, are waited
 * for, and any still there after LINKS_GONE_WAIT_MS (a process kept its
 * namespace alive) are deleted. Absent ones are fine; fails naming those
 * still there afterwards.
 */
export async function deleteNetnsMany(names: readonly string[], links: readonly string[] = []): Promise<void> {
  // One command a line: a name with a space or a newline in it would be another command.
  for (const n of [...names, ...links]) if (!/^[\w.-]+$/.test(n)) throw new EngineError(`invalid namespace or link name ${JSON.stringify(n)}`);
  if (names.length > 0) {
    const r = await runCommand("ip", ["-force", "-batch", "-"], { input: names.map((n) => `netns delete ${n}\n`).join("") });
    if (r.code !== 0) {
      const left = new Set(await listNetns(""));
      const stuck = names.filter((n) => left.has(n));
      if (stuck.length > 0) throw new EngineError(`cannot delete network namespaces ${stuck.join(", ")}: ${r.stderr.trim()}`);
    }
  }
  const deadline = Date.now() + LINKS_GONE_WAIT_MS;
  let left = links;
  while (left.length > 0) {
    const present = await hostLinks();
    left = left.filter((l) => present.has(l));
    if (left.length === 0 || Date.now() > deadline) break;
    await sleep(25);
  }
  if (left.length > 0) await runCommand("ip", ["-force", "-batch", "-"], { input: left.map((l) => `link delete dev ${l}\n`).join("") });
}

const LINKS_GONE_WAIT_MS = 1_000;

/** Names of the links in the engine's own namespace. */
async function hostLinks(): Promise<Set<string>> {
  const out = await mustRun("ip", ["-j", "link", "show"]);
  return new Set((JSON.parse(out || "[]") as Array<{ ifname?: string }>).map((l) => l.ifname ?? ""));
}

/** Names under /run/netns that start with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(NETNS_DIR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names.filter((n) => n.startsWith(prefix)).sort();
}

/**
 * The processes in each of the namespaces `names` (one with none maps to an empty list, one
 * that does not exist is left out), as `ip netns pids` finds them: every process's
 * /proc/<pid>/ns/net against the namespace's file. All names in one pass over /proc, in this
 * process: an `ip` each cost a process start (~3 ms of CPU) per returned namespace. The link's
 * text (`net:[<inode>]`) is compared with the inode of the namespace's file (the namespace
 * file system is one device, so the inode names the namespace): a readlink is about half the
 * cost of a stat here (~0.5 ms a pass over 120 processes). Synchronous on purpose: a
 * thread-pool round trip per process would cost more than the call.
 */
export function netnsPids(names: readonly string[]): Map<string, number[]> {
  const byLink = new Map<string, string>();
  const found = new Map<string, number[]>();
  for (const name of names) {
    const st = fsSync.statSync(netnsPath(name), { throwIfNoEntry: false });
    if (st === undefined) continue;
    byLink.set(`net:[${st.ino}]`, name);
    found.set(name, []);
  }
  if (byLink.size === 0) return found;
  for (const entry of fsSync.readdirSync("/proc")) {
    const first = entry.charCodeAt(0);
    if (first < 0x31 || first > 0x39) continue;
    let link: string;
    try {
      link = fsSync.readlinkSync(`/proc/${entry}/ns/net`);
    } catch {
      // Gone meanwhile, or not to be read (as `ip` does, skipped).
      continue;
    }
    const name = byLink.get(link);
    if (name !== undefined) found.get(name)?.push(Number(entry));
  }
  return found;
}
