/**
 * Which compressed blobs hold a snapshot's own layer. A pulled layer's
 * snapshot is recorded with the blob it was unpacked from, so an image built
 * on it is exported and pushed with the same blob (a registry then already
 * has it); a layer packed by an export is recorded too, so exporting twice
 * does not pack and compress twice.
 *
 * Records belong to a snapshot row (`ON DELETE CASCADE`): a snapshot that is
 * removed and made again under the same name never inherits a stale blob.
 */
import type { Database } from "../metadata/database.js";
import type { Digest } from "../oci/digest.js";
import { type LayerCompression, layerCompression } from "../oci/media-types.js";

export interface LayerBlob {
  compression: LayerCompression;
  digest: Digest;
  size: number;
  /** Digest of the uncompressed tar. */
  diffId: Digest;
}

interface Row {
  compression: LayerCompression;
  digest: string;
  size: number;
  diff_id: string;
}

export class LayerBlobs {
  constructor(private readonly db: Database) {}

  record(snapshotId: number, blob: LayerBlob): void {
    this.db
      .prepare("INSERT OR REPLACE INTO layer_blobs (snapshot, compression, digest, size, diff_id) VALUES (?, ?, ?, ?, ?)")
      .run(snapshotId, blob.compression, blob.digest, blob.size, blob.diffId);
  }

  /** The blobs known for a snapshot, gzip first (the most widely readable), then zstd, then plain. */
  lookup(snapshotId: number): LayerBlob[] {
    const rows = this.db
      .prepare(
        "SELECT compression, digest, size, diff_id FROM layer_blobs WHERE snapshot = ? ORDER BY CASE compression WHEN 'gzip' THEN 0 WHEN 'zstd' THEN 1 ELSE 2 END",
      )
      .all(snapshotId) as Row[];
    return rows.map((r) => ({ compression: r.compression, digest: r.digest as Digest, size: r.size, diffId: r.diff_id as Digest }));
  }

  forget(snapshotId: number, compression: LayerCompression): void {
    this.db.prepare("DELETE FROM layer_blobs WHERE snapshot = ? AND compression = ?").run(snapshotId, compression);
  }

  /** Every blob some snapshot's layer is recorded in (the collector keeps these). */
  referenced(): Set<string> {
    return new Set((this.db.prepare("SELECT DISTINCT digest FROM layer_blobs").all() as Array<{ digest: string }>).map((r) => r.digest));
  }

  /** Blob digest → the snapshots whose layer is recorded in it (a blob goes only after them). */
  holders(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const r of this.db.prepare("SELECT digest, snapshot FROM layer_blobs").all() as Array<{ digest: string; snapshot: number }>) {
      out.set(r.digest, [...(out.get(r.digest) ?? []), r.snapshot]);
    }
    return out;
  }

  isReferenced(digest: string): boolean {
    return this.db.prepare("SELECT 1 FROM layer_blobs WHERE digest = ? LIMIT 1").get(digest) !== undefined;
  }
}

/** The compression a pulled layer's media type says; unknown types count as gzip, as Docker's do. */
export function layerCompressionOf(mediaType: string): LayerCompression {
  try {
    return layerCompression(mediaType);
  } catch {
    return "gzip";
  }
}
