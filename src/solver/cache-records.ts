/**
 * Persistent cache records: vertex digest → result. A record pointing at a
 * snapshot that no longer exists is stale and ignored (and deleted).
 */
import type { Database } from "../metadata/database.js";
import type { Digest } from "../oci/digest.js";
import type { Result } from "./types.js";

export interface CacheRecords {
  get(key: Digest): Result | undefined;
  put(key: Digest, kind: string, result: Result, snapshotId: number | undefined, durationMs: number): void;
  delete(key: Digest): void;
}

export class SqliteCacheRecords implements CacheRecords {
  readonly #get;
  readonly #touch;
  readonly #put;
  readonly #delete;

  constructor(db: Database) {
    this.#get = db.prepare<[string], { result: string }>("SELECT result FROM cache_records WHERE key = ?");
    this.#touch = db.prepare("UPDATE cache_records SET last_used = ? WHERE key = ?");
    this.#put = db.prepare(
      `INSERT INTO cache_records (key, kind, result, snapshot, created, last_used, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET result = excluded.result, snapshot = excluded.snapshot, last_used = excluded.last_used`,
    );
    this.#delete = db.prepare("DELETE FROM cache_records WHERE key = ?");
  }

  get(key: Digest): Result | undefined {
    const row = this.#get.get(key);
    if (!row) return undefined;
    this.#touch.run(Date.now(), key);
    return JSON.parse(row.result) as Result;
  }

  put(key: Digest, kind: string, result: Result, snapshotId: number | undefined, durationMs: number): void {
    const now = Date.now();
    this.#put.run(key, kind, JSON.stringify(result), snapshotId ?? null, now, now, Math.round(durationMs));
  }

  delete(key: Digest): void {
    this.#delete.run(key);
  }
}
