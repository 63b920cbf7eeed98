/**
 * The engine's embedded state: one SQLite database (better-sqlite3) in WAL
 * mode. Layers own their tables and register migrations here; the schema
 * version is kept in `user_version`, so upgrades run once and in order.
 *
 * better-sqlite3 is synchronous: keep each transaction short and never hold
 * one across an `await`.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import BetterSqlite3 from "better-sqlite3";

export type Database = BetterSqlite3.Database;

/** Ordered schema changes; index + 1 is the resulting user_version. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE snapshots (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     parent INTEGER REFERENCES snapshots(id),
     state TEXT NOT NULL CHECK (state IN ('active', 'committed')),
     created INTEGER NOT NULL,
     last_used INTEGER NOT NULL,
     size INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX snapshots_parent ON snapshots(parent);
   CREATE TABLE cache_records (
     key TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     result TEXT NOT NULL,
     snapshot INTEGER REFERENCES snapshots(id),
     created INTEGER NOT NULL,
     last_used INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL
   );
   CREATE INDEX cache_records_snapshot ON cache_records(snapshot);
   CREATE TABLE cache_volumes (
     key TEXT PRIMARY KEY,
     dir TEXT NOT NULL UNIQUE,
     created INTEGER NOT NULL,
     last_used INTEGER NOT NULL
   );`,
  // Compressed blobs known for a committed snapshot's own layer: the pulled
  // blob of an image layer, or one packed by an export (src/images/layer-blobs.ts).
  `CREATE TABLE layer_blobs (
     snapshot INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
     compression TEXT NOT NULL CHECK (compression IN ('gzip', 'zstd', 'none')),
     digest TEXT NOT NULL,
     size INTEGER NOT NULL,
     diff_id TEXT NOT NULL,
     PRIMARY KEY (snapshot, compression)
   );`,
  // The solver's own settings (the cache key version), and content checksums
  // of committed snapshots' sub-trees for content-based cache keys (src/solver/content-checksums.ts).
  `CREATE TABLE IF NOT EXISTS solver_state (
     name TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   CREATE TABLE IF NOT EXISTS content_checksums (
     snapshot INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
     path TEXT NOT NULL,
     checksum TEXT NOT NULL,
     PRIMARY KEY (snapshot, path)
   );`,
];

export function openDatabase(file: string): Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma("journal_mode = WAL");
  // NORMAL in WAL mode is durable across process crashes (only a power loss
  // can drop the last transactions), which is what a kill -9 needs.
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

function migrate(db: Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
