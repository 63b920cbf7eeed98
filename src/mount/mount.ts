/**
 * The only code that mounts and unmounts. Node has no binding for mount(2):
 * overlay and bind mounts and all unmounts go through tanto's addon
 * (native-mount.ts) where it was built; the rest, and everything on a host
 * without it, run `mount`/`umount` through the engine's process helper
 * (host-spawn.ts) so that the engine itself never forks.
 *
 * Every exec mounts its root overlay on its critical path (and unmounts it
 * after the answer). util-linux `mount` loads five shared libraries and
 * libmount's tables first: 6.9 ms a call against 2.6 ms for a static busybox
 * and 1.3 ms for `true` (100 calls each, 2-core VM under load), and the
 * system call itself takes ~0.7 ms. So without the addon, overlay mounts and
 * unmounts go through busybox where the host has one (the same mount(2)
 * call either way).
 */
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import { EngineError } from "../errors.js";
import { hostSpawn } from "../host-spawn.js";
import { nativeMount, nativeUnmount } from "./native-mount.js";
import type { Mount } from "./types.js";

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = hostSpawn(cmd, args, cwd ? { cwd } : {});
    child.stdin.end();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new EngineError(`${cmd} ${args.join(" ")} failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}

const BUSYBOX_PATHS = ["/usr/bin/busybox", "/bin/busybox", "/usr/sbin/busybox", "/sbin/busybox"];
let busybox: string | null | undefined;

/** `tool` ("mount" or "umount") as a command line: busybox's applet where the host has busybox, else util-linux's. */
function fastTool(tool: "mount" | "umount"): [string, string[]] {
  busybox ??= BUSYBOX_PATHS.find((p) => existsSync(p)) ?? null;
  return busybox === null ? [tool, []] : [busybox, [tool]];
}

/** Mount `m` on `target` (which must exist). */
export async function mount(m: Mount, target: string): Promise<void> {
  if (await nativeMount(m, target)) return;
  // A read-only bind is bound first, then remounted read-only with the flags the bind has (the
  // kernel sets exactly those given; mount(8) given "bind,ro" would drop them), or unmounted again.
  const readOnlyBind = m.type === "bind" && m.options.includes("ro");
  const options = readOnlyBind ? m.options.filter((o) => o !== "ro") : m.options;
  const args = ["-t", m.type, m.source, target];
  if (options.length > 0) args.splice(2, 0, "-o", options.join(","));
  if (m.type === "overlay") {
    const [cmd, pre] = fastTool("mount");
    return run(cmd, [...pre, ...args], m.cwd);
  }
  await run("mount", args, m.cwd);
  if (readOnlyBind) {
    const keep = (await mountOptions(target)).filter((o) => KEPT_ON_REMOUNT.has(o));
    await run("mount", ["-o", ["remount", "ro", "bind", ...keep].join(","), target]).catch(async (err: unknown) => {
      await run("umount", ["-l", target]).catch(() => undefined);
      throw err;
    });
  }
}

export async function unmount(target: string, opts: { detach?: boolean } = {}): Promise<void> {
  if (await nativeUnmount(target, opts.detach === true)) return;
  const [cmd, pre] = fastTool("umount");
  await run(cmd, [...pre, ...(opts.detach ? ["-l", target] : [target])]);
}

const KEPT_ON_REMOUNT = new Set(["nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime"]);

/** The per-mount options of the mount point `target` (the last one mounted there), from mountinfo. */
async function mountOptions(target: string): Promise<string[]> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8");
  const fields = info
    .split("\n")
    .map((line) => line.split(" "))
    .findLast((f) => f[4]?.replace(/\\040/g, " ") === target);
  return fields?.[5]?.split(",") ?? [];
}

/** Mount points at or below `prefix`, deepest first, read from mountinfo. */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8");
  const points = info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && (p === prefix || p.startsWith(prefix + "/")))
    .map((p) => p.replace(/\\040/g, " "));
  return points.sort((a, b) => b.length - a.length);
}

/**
 * A tmpfs of the engine's own at `dir` (mode 0700, nosuid, nodev, and `extra` options), mounted
 * over whatever an older engine left there: its mounts below `dir` go first, then its files.
 */
export async function mountPrivateTmpfs(dir: string, opts: { source: string; size: string; extra?: string[] }): Promise<void> {
  for (const m of await mountsUnder(dir)) await unmount(m).catch(() => unmount(m, { detach: true }));
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await mount({ type: "tmpfs", source: opts.source, options: ["mode=0700", `size=${opts.size}`, "nosuid", "nodev", ...(opts.extra ?? [])] }, dir);
}

/** Unmount everything left below `prefix` (after a crash, or at shutdown). */
export async function unmountAll(prefix: string): Promise<number> {
  const points = await mountsUnder(prefix);
  for (const p of points) await unmount(p, { detach: true }).catch(() => undefined);
  return points.length;
}

/**
 * Mount `m` on a fresh directory `target`, run `fn` with it, and always
 * unmount and remove the directory afterwards.
 */
export async function withMounted<T>(m: Mount, target: string, fn: (dir: string) => Promise<T>): Promise<T> {
  await fs.mkdir(target, { recursive: true });
  try {
    await mount(m, target);
  } catch (err) {
    await fs.rmdir(target).catch(() => undefined);
    throw err;
  }
  try {
    return await fn(target);
  } finally {
    await unmount(target).catch(() => unmount(target, { detach: true }));
    await fs.rmdir(target).catch(() => undefined);
  }
}
