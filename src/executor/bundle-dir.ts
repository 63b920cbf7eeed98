/**
 * runc bundles live in memory. A bundle's config.json carries the process
 * environment — secret values included — in plain text for as long as the
 * container runs; on a disk it would outlive the exec in the filesystem's
 * free blocks and a crashed engine's leftovers. So the bundle directory is a
 * tmpfs of its own (0700, nosuid, nodev, noexec), mounted at start over
 * whatever an older engine left there (which is removed first) and unmounted
 * with the rest of the run directory.
 *
 * runc's own state directory (its --root) is on that tmpfs as well, as runc's
 * default /run/runc is: each run makes and removes a directory, state.json,
 * its temporary copy and exec.fifo there, and on a disk that churn costs
 * every later inode allocation (on ext4 without a journal, the allocator
 * skips each inode freed in the last minute). A dead engine's tmpfs is still
 * mounted when the next one starts, so its containers are found and deleted
 * before the tmpfs is replaced.
 */
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { mountPrivateTmpfs } from "../mount/mount.js";
import { RuncExecutor } from "./runc-executor.js";

/** Bundles hold a few kilobytes each; this bounds a runaway, not normal use. */
const BUNDLE_TMPFS_SIZE = "64m";

export function prepareBundleDir(dir: string): Promise<void> {
  // A tmpfs still mounted here (an engine killed before its cleanup) goes first, then what lies below it.
  return mountPrivateTmpfs(dir, { source: "tanto-bundles", size: BUNDLE_TMPFS_SIZE, extra: ["noexec"] });
}

/** runc's --root inside the bundle directory `bundleDir` (the executor leaves it out of its sweep of bundles). */
export function runcStateDir(bundleDir: string): string {
  return path.join(bundleDir, ".runc");
}

/** Engines before the state moved kept it in `<root>/runc`: delete what containers a crashed one left there, then the directory. */
export async function removeLegacyRuncState(root: string): Promise<void> {
  const legacy = path.join(root, "runc");
  if (!existsSync(legacy)) return;
  await new RuncExecutor({ root: legacy, bundleDir: path.join(legacy, ".no-bundles") }).cleanup();
  await fs.rm(legacy, { recursive: true, force: true });
}
