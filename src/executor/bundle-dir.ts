/**
 * runc bundles live in memory. A bundle's config.json carries the process
 * environment — secret values included — in plain text for as long as the
 * container runs; on a disk it would outlive the exec in the filesystem's
 * free blocks and a crashed engine's leftovers. So the bundle directory is a
 * tmpfs of its own (0700, nosuid, nodev, noexec), mounted at start over
 * whatever an older engine left there (which is removed first) and unmounted
 * with the rest of the run directory.
 */
import * as fs from "node:fs/promises";
import { mount, mountsUnder, unmount } from "../mount/mount.js";

/** Bundles hold a few kilobytes each; this bounds a runaway, not normal use. */
const BUNDLE_TMPFS_SIZE = "64m";

export async function prepareBundleDir(dir: string): Promise<void> {
  // A tmpfs still mounted here (an engine killed before its cleanup) goes first, then what lies below it.
  for (const m of await mountsUnder(dir)) await unmount(m).catch(() => unmount(m, { detach: true }));
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await mount({ type: "tmpfs", source: "tanto-bundles", options: ["mode=0700", `size=${BUNDLE_TMPFS_SIZE}`, "nosuid", "nodev", "noexec"] }, dir);
}
