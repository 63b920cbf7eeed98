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
  // Snapshot ids are never reused. A snapshot's directory is named after its
  // id and is removed after its row; with SQLite's default rowids the next
  // snapshot could take the id of one whose directory was still going away.
  `CREATE TABLE snapshot_ids (
     one INTEGER PRIMARY KEY CHECK (one = 1),
     next INTEGER NOT NULL
   );
   INSERT INTO snapshot_ids (one, next) SELECT 1, COALESCE(MAX(id), 0) + 1 FROM snapshots;`,
  // What each cache record owns besides its main snapshot: snapshots of an
  // exec's writable mounts, blobs it exported or downloaded. A snapshot's
  // removal takes every record owning it in the same statement (the trigger),
  // so no record ever points at a snapshot that is gone. Existing records get
  // their parts from their results; those whose parts are gone already are
  // dropped (they would answer with nothing).
  `CREATE TABLE cache_record_parts (
     record TEXT NOT NULL REFERENCES cache_records(key) ON DELETE CASCADE,
     snapshot INTEGER REFERENCES snapshots(id),
     blob TEXT,
     CHECK ((snapshot IS NULL) <> (blob IS NULL))
   );
   CREATE INDEX cache_record_parts_record ON cache_record_parts(record);
   CREATE INDEX cache_record_parts_snapshot ON cache_record_parts(snapshot);
   CREATE INDEX cache_record_parts_blob ON cache_record_parts(blob);
   CREATE TRIGGER snapshots_take_their_records BEFORE DELETE ON snapshots BEGIN
     DELETE FROM cache_records WHERE snapshot = OLD.id
       OR key IN (SELECT record FROM cache_record_parts WHERE snapshot = OLD.id);
   END;
   DELETE FROM cache_records WHERE
     (json_extract(result, '$.snapshot') IS NOT NULL AND NOT EXISTS
       (SELECT 1 FROM snapshots s WHERE s.name = json_extract(cache_records.result, '$.snapshot') AND s.state = 'committed'))
     OR EXISTS (SELECT 1 FROM json_each(cache_records.result, '$.meta.mounts') m
       WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.name = m.value AND s.state = 'committed'));
   INSERT INTO cache_record_parts (record, snapshot)
     SELECT c.key, s.id FROM cache_records c JOIN snapshots s ON s.name = json_extract(c.result, '$.snapshot');
   INSERT INTO cache_record_parts (record, snapshot)
     SELECT c.key, s.id FROM cache_records c, json_each(c.result, '$.meta.mounts') m JOIN snapshots s ON s.name = m.value;`,
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
  // What each recipe-keyed record was made from, as named facets (src/solver/op-facets.ts),
  // and the file listings of client directories by content digest: for `tanto cache explain`
  // (src/cache/). A listing goes with its snapshot.
  `CREATE TABLE cache_record_inputs (
     record TEXT PRIMARY KEY REFERENCES cache_records(key) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     facets TEXT NOT NULL,
     created INTEGER NOT NULL
   );
   CREATE INDEX cache_record_inputs_kind ON cache_record_inputs(kind);
   CREATE TABLE host_tree_listings (
     snapshot TEXT PRIMARY KEY,
     entries TEXT NOT NULL
   );
   CREATE TRIGGER snapshots_take_their_listings AFTER DELETE ON snapshots BEGIN
     DELETE FROM host_tree_listings WHERE snapshot = OLD.name;
   END;`,
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
  reuseStatements(db);
  return db;
}

/**
 * better-sqlite3 compiles the SQL again on every `prepare`, and the engine's statements are a fixed
 * set of literal strings run over and over (a dozen on every exec): compile each once. Safe because
 * no caller changes a statement's mode (pluck, raw, expand) or runs one while iterating it.
 */
function reuseStatements(db: Database): void {
  const compile = db.prepare.bind(db);
  const compiled = new Map<string, BetterSqlite3.Statement>();
  db.prepare = ((sql: string) => {
    let statement = compiled.get(sql);
    if (statement === undefined) {
      statement = compile(sql);
      compiled.set(sql, statement);
    }
    return statement;
  }) as Database["prepare"];
}

/** Bring `db` to schema version `target` (default: the newest); tests stop earlier to test an upgrade. */
export function migrate(db: Database, target = MIGRATIONS.length): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (let v = current; v < Math.min(target, MIGRATIONS.length); v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
