/** Read-only access to a committed snapshot's whole filesystem. */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { withMounted } from "../mount/mount.js";
import type { OverlaySnapshotter } from "./overlay-snapshotter.js";
import type { CommittedSnapshot } from "./types.js";

/**
 * Run `fn` with a read-only view of `snapshot` (undefined: the empty
 * filesystem). A single layer is read where it lies; a stack is mounted
 * read-only under `scratchDir` for the duration.
 */
export async function withSnapshotView<T>(
  snapshots: OverlaySnapshotter,
  snapshot: CommittedSnapshot | undefined,
  scratchDir: string,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const name = `view-${randomBytes(6).toString("hex")}`;
  if (!snapshot) {
    const empty = path.join(scratchDir, name);
    await fs.mkdir(empty, { recursive: true });
    try {
      return await fn(empty);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  }
  snapshots.touch(snapshot);
  if (snapshot.chain.length === 1) return fn(snapshots.layerDir(snapshot));
  await snapshots.whenSettled(snapshot);
  return withMounted(snapshots.viewMounts(snapshot), path.join(scratchDir, name), fn);
}
