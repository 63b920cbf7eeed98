/**
 * What the engine needs from its host, checked before anything starts, so a
 * host that cannot run it gets one line naming what is missing and how to
 * fix it — never "engine started" and then an internal error on the first
 * pull. In order: root, runc, the CNI plugins and nft (when networking is on), a
 * writable state directory, and overlayfs working with its upper directories
 * on that state directory's filesystem (which also proves the kernel has
 * overlayfs).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, messageOf } from "../errors.js";
import { mount, unmount } from "../mount/mount.js";

const CNI_PATH = "/usr/lib/cni";
const CNI_PLUGINS = ["bridge", "host-local", "loopback", "tuning", "firewall"];

export interface PreflightOptions {
  root: string;
  network: boolean;
  runc?: string;
}

export async function preflight(opts: PreflightOptions): Promise<void> {
  if (process.getuid?.() !== 0) {
    refuse(`tanto engine must run as root (uid ${process.getuid?.()}): start it with sudo, or as root in a --privileged container`);
  }
  const runc = opts.runc ?? "runc";
  if (findExecutable(runc) === undefined) {
    refuse(`runc not found ("${runc}" is not an executable on PATH=${process.env["PATH"] ?? ""}): install it (apt-get install runc)`);
  }
  if (opts.network) {
    const missing = CNI_PLUGINS.filter((p) => !isExecutable(path.join(CNI_PATH, p)));
    if (missing.length > 0) {
      refuse(
        `CNI plugins missing in ${CNI_PATH}: ${missing.join(", ")}: install them (apt-get install containernetworking-plugins), or set [network] enabled = false in engine.toml`,
      );
    }
    // Services are isolated to their session by an nftables table (network/service-firewall.ts).
    if (findExecutable("nft") === undefined) {
      refuse(
        `nft not found on PATH=${process.env["PATH"] ?? ""} (services are isolated by nftables): install it (apt-get install nftables), or set [network] enabled = false in engine.toml`,
      );
    }
  }
  await checkWritable(opts.root);
  await checkOverlay(opts.root);
}

function refuse(message: string): never {
  throw new FailedPreconditionError(`cannot start: ${message}`);
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findExecutable(name: string): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir !== "" && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

async function checkWritable(root: string): Promise<void> {
  const probe = path.join(root, `.preflight-${process.pid}`);
  try {
    await fs.mkdir(root, { recursive: true, mode: 0o700 });
    await fs.writeFile(probe, "ok");
    await fs.rm(probe, { force: true });
  } catch (err) {
    refuse(`state directory ${root} is not writable (${messageOf(err)}): pass a writable --root, or fix its mount or permissions`);
  }
}

function fsTypeOf(dir: string): string {
  const r = spawnSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

/**
 * Mount a small overlay whose upper and work dirs live in the state directory, and write through it.
 * Once per boot and filesystem: a passed probe leaves a note in the state directory naming both
 * (the kernel's boot id and the directory's device), and a start that finds the same note skips
 * the probe's two mount commands.
 */
async function checkOverlay(root: string): Promise<void> {
  const note = path.join(root, OVERLAY_NOTE);
  const seen = `${(await fs.readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "")).trim()} ${(await fs.stat(root)).dev}\n`;
  if (seen.startsWith(" ")) return probeOverlay(root);
  if ((await fs.readFile(note, "utf8").catch(() => "")) === seen) return;
  await probeOverlay(root);
  await fs.writeFile(note, seen, { mode: 0o600 });
}

const OVERLAY_NOTE = ".overlay-checked";

async function probeOverlay(root: string): Promise<void> {
  const base = path.join(root, `.preflight-overlay-${process.pid}`);
  const dirs = { lower: path.join(base, "lower"), upper: path.join(base, "upper"), work: path.join(base, "work"), merged: path.join(base, "merged") };
  for (const d of Object.values(dirs)) await fs.mkdir(d, { recursive: true });
  let mounted = false;
  try {
    const filesystems = await fs.readFile("/proc/filesystems", "utf8").catch(() => "");
    if (!/\toverlay$/m.test(filesystems)) {
      // Loaded on first use on many kernels: let the mount below decide, but name the module if it fails.
      spawnSync("modprobe", ["overlay"], { stdio: "ignore" });
    }
    try {
      await mount({ type: "overlay", source: "overlay", options: [`lowerdir=${dirs.lower}`, `upperdir=${dirs.upper}`, `workdir=${dirs.work}`] }, dirs.merged);
      mounted = true;
      await fs.writeFile(path.join(dirs.merged, "probe"), "ok");
    } catch (err) {
      const has = /\toverlay$/m.test(await fs.readFile("/proc/filesystems", "utf8").catch(() => ""));
      if (!has) refuse(`the kernel has no overlayfs (${messageOf(err)}): load it with "modprobe overlay", or use a kernel built with CONFIG_OVERLAY_FS`);
      refuse(
        `state directory ${root} is on ${fsTypeOf(root)}, which cannot hold overlayfs upper directories (${messageOf(err).split("\n")[0]}): put --root on ext4, xfs or btrfs (a volume, not the container's own overlay)`,
      );
    }
  } finally {
    if (mounted) await unmount(dirs.merged).catch(() => unmount(dirs.merged, { detach: true }));
    await fs.rm(base, { recursive: true, force: true });
  }
}
