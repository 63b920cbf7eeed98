/**
 * Persistent cache records: vertex digest → result.
 *
 * A record owns what its result points at: its snapshot, the snapshots of an
 * exec's writable mounts, the blobs it exported or downloaded
 * (`cache_record_parts`). Removing any owned snapshot removes the record in
 * the same statement (a trigger in the schema), and the collector drops the
 * records owning a blob before it deletes the blob; so a record never
 * answers with parts that are gone. A record whose blob went missing anyway
 * is a miss, and deleted.
 */
import type { Database } from "../metadata/database.js";
import type { Digest } from "../oci/digest.js";
import type { Facets } from "./op-facets.js";
import { type Result, snapshotsOf } from "./types.js";

/** What a record was made from, for `tanto cache explain`: the vertex's name and its op's facets. */
export interface RecordInputs {
  readonly name: string;
  readonly facets: Facets;
}

export interface CacheRecords {
  get(key: Digest): Result | undefined;
  put(key: Digest, kind: string, result: Result, snapshotId: number | undefined, durationMs: number, inputs?: RecordInputs): void;
  delete(key: Digest): void;
}

export class SqliteCacheRecords implements CacheRecords {
  readonly #db: Database;
  readonly #blobExists: (digest: string) => boolean;
  readonly #get;
  readonly #blobs;
  readonly #touch;
  readonly #touchSnapshots;
  readonly #put;
  readonly #clearParts;
  readonly #snapshotId;
  readonly #addSnapshot;
  readonly #addBlob;
  readonly #delete;
  readonly #putInputs;

  /** `blobExists` says whether the content store holds a blob (synchronously: lookups lease in the same step). */
  constructor(db: Database, blobExists: (digest: string) => boolean = () => true) {
    this.#db = db;
    this.#blobExists = blobExists;
    this.#get = db.prepare<[string], { result: string }>("SELECT result FROM cache_records WHERE key = ?");
    this.#blobs = db.prepare<[string], { blob: string }>("SELECT blob FROM cache_record_parts WHERE record = ? AND blob IS NOT NULL");
    this.#touch = db.prepare("UPDATE cache_records SET last_used = ? WHERE key = ?");
    // A hit is a use of everything the record owns: the collector goes by last use.
    this.#touchSnapshots = db.prepare(
      "UPDATE snapshots SET last_used = ? WHERE id IN (SELECT snapshot FROM cache_record_parts WHERE record = ? AND snapshot IS NOT NULL)",
    );
    this.#put = db.prepare(
      `INSERT INTO cache_records (key, kind, result, snapshot, created, last_used, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET result = excluded.result, snapshot = excluded.snapshot, last_used = excluded.last_used`,
    );
    this.#clearParts = db.prepare("DELETE FROM cache_record_parts WHERE record = ?");
    this.#snapshotId = db.prepare<[string], { id: number }>("SELECT id FROM snapshots WHERE name = ? AND state = 'committed'");
    this.#addSnapshot = db.prepare("INSERT INTO cache_record_parts (record, snapshot) VALUES (?, ?)");
    this.#addBlob = db.prepare("INSERT INTO cache_record_parts (record, blob) VALUES (?, ?)");
    this.#delete = db.prepare("DELETE FROM cache_records WHERE key = ?");
    this.#putInputs = db.prepare("INSERT OR REPLACE INTO cache_record_inputs (record, kind, name, facets, created) VALUES (?, ?, ?, ?, ?)");
  }

  get(key: Digest): Result | undefined {
    const row = this.#get.get(key);
    if (!row) return undefined;
    // Owned snapshots cannot be gone (their removal takes the record); blobs live outside the database.
    if (this.#blobs.all(key).some((r) => !this.#blobExists(r.blob))) {
      this.#delete.run(key);
      return undefined;
    }
    const now = Date.now();
    this.#touch.run(now, key);
    this.#touchSnapshots.run(now, key);
    return JSON.parse(row.result) as Result;
  }

  /**
   * Record `result` with its parts, in one transaction. A result whose parts
   * are already gone (collected while the op ran) is not recorded: it would
   * be a record pointing at nothing.
   */
  put(key: Digest, kind: string, result: Result, snapshotId: number | undefined, durationMs: number, inputs?: RecordInputs): void {
    const now = Date.now();
    this.#db.transaction(() => {
      const ids: number[] = [];
      for (const name of new Set(snapshotsOf(result))) {
        const row = this.#snapshotId.get(name);
        if (!row) return;
        ids.push(row.id);
      }
      const blobs = [...new Set(result.owns?.blobs ?? [])];
      if (blobs.some((b) => !this.#blobExists(b))) return;
      this.#put.run(key, kind, JSON.stringify(result), snapshotId ?? null, now, now, Math.round(durationMs));
      this.#clearParts.run(key);
      for (const id of ids) this.#addSnapshot.run(key, id);
      for (const blob of blobs) this.#addBlob.run(key, blob);
      if (inputs) this.#putInputs.run(key, kind, inputs.name, JSON.stringify(inputs.facets), now);
    })();
  }

  delete(key: Digest): void {
    this.#delete.run(key);
  }
}

/**
 * The records' side of garbage collection: which blobs records own, and
 * dropping the records that own a blob before the blob goes.
 */
export class RecordBlobOwnership {
  readonly #owned;
  readonly #release;

  constructor(db: Database) {
    this.#owned = db.prepare<[], { blob: string; lastUsed: number; kind: string }>(
      `SELECT p.blob AS blob, MAX(c.last_used) AS lastUsed, MIN(c.kind) AS kind
       FROM cache_record_parts p JOIN cache_records c ON c.key = p.record
       WHERE p.blob IS NOT NULL GROUP BY p.blob`,
    );
    this.#release = db.prepare("DELETE FROM cache_records WHERE key IN (SELECT record FROM cache_record_parts WHERE blob = ?)");
    this.#snapshots = db.prepare<[], { id: number }>(
      `SELECT snapshot AS id FROM cache_records WHERE snapshot IS NOT NULL
       UNION SELECT snapshot AS id FROM cache_record_parts WHERE snapshot IS NOT NULL`,
    );
  }

  readonly #snapshots;

  /** Ids of the snapshots some record answers with or owns. */
  referencedSnapshots(): Set<number> {
    return new Set(this.#snapshots.all().map((r) => r.id));
  }

  /** Blobs owned by records: digest → last use of its records and the kind of op that made it. */
  owned(): Map<string, { lastUsed: number; kind: string }> {
    return new Map(this.#owned.all().map((r) => [r.blob, { lastUsed: r.lastUsed, kind: r.kind }]));
  }

  /** Remove every record owning `digest` (one statement); returns how many. */
  release(digest: string): number {
    return this.#release.run(digest).changes;
  }
}
