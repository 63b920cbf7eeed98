/**
 * What a crash can leave behind that nothing references, removed when the
 * engine starts — before anything runs, so nothing can be about to record it:
 *
 * - committed snapshots of the kinds only cache records lead to (exec, files,
 *   git, downloads, exports) that no record references and no snapshot builds
 *   on: an op killed between its commit and its record (or whose record could
 *   not be written on a full disk). Layer and host snapshots are found by
 *   their content names and stay.
 * - blobs that no layer record and no cache record holds: a download, pull or
 *   export killed between writing the blob and recording it. (Manifests and
 *   configs of pulled images are among them: a pull fetches them again.)
 *
 * Snapshot directories without a database row go at the snapshotter's open.
 */
import * as fs from "node:fs/promises";
import type { ContentStore } from "../content/types.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { type BlobOwners, type SnapshotKind, snapshotKindOf } from "./types.js";

/** Kinds of snapshots nothing but a cache record leads to. */
const RECORD_ONLY: ReadonlySet<SnapshotKind> = new Set(["exec", "files", "git", "downloads", "exports"]);

export interface OrphanDeps {
  snapshots: OverlaySnapshotter;
  content: ContentStore;
  /** Blob digest → ids of the snapshots whose layer is recorded in it. */
  layerBlobHolders: () => Map<string, number[]>;
  records: BlobOwners;
}

export interface OrphanReport {
  snapshots: number;
  blobs: number;
  /** Bytes of the removed blobs. */
  blobBytes: number;
}

export async function removeOrphans(deps: OrphanDeps): Promise<OrphanReport> {
  const { snapshots, content, records } = deps;
  const report: OrphanReport = { snapshots: 0, blobs: 0, blobBytes: 0 };
  // Leaves first; a parent whose only children were orphans is one in the next pass.
  for (;;) {
    const list = snapshots.list();
    const referenced = records.referencedSnapshots();
    const parents = new Set(list.flatMap((s) => (s.parent === null ? [] : [s.parent])));
    const orphans = list.filter((s) => RECORD_ONLY.has(snapshotKindOf(s.name)) && !referenced.has(s.id) && !parents.has(s.id));
    let removed = 0;
    for (const s of orphans) {
      const trash = snapshots.detach(s.name);
      if (trash === undefined) continue;
      await fs.rm(trash, { recursive: true, force: true });
      removed++;
    }
    report.snapshots += removed;
    if (removed === 0) break;
  }
  // After the snapshots: their layer records went with them.
  const held = deps.layerBlobHolders();
  const owned = records.owned();
  for await (const blob of content.list()) {
    if (held.has(blob.digest) || owned.has(blob.digest)) continue;
    await content.delete(blob.digest);
    report.blobs++;
    report.blobBytes += blob.size;
  }
  return report;
}
