/**
 * The cache key format's version. Every record key is derived from a vertex
 * digest and this number, so records written under another format are never
 * answered; and when the engine opens a database last used with another
 * version, those records are deleted at once rather than left to age out.
 * Bump it whenever what a key covers, or how, changes.
 */
import type { Database } from "../metadata/database.js";
import { type Digest, sha256 } from "../oci/digest.js";

export const CACHE_VERSION = 3;

/** The record key of a vertex digest (a recipe key) under the current version. */
export function recordKey(vertexDigest: Digest): Digest {
  return sha256(`tanto cache v${CACHE_VERSION}\0${vertexDigest}`);
}

/** Drop records of another cache version; returns how many went. */
export function applyCacheVersion(db: Database): number {
  const row = db.prepare<[], { value: string }>("SELECT value FROM solver_state WHERE name = 'cache_version'").get();
  if (row?.value === String(CACHE_VERSION)) return 0;
  return db.transaction(() => {
    const dropped = db.prepare("DELETE FROM cache_records").run().changes;
    db.prepare("INSERT INTO solver_state (name, value) VALUES ('cache_version', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value").run(
      String(CACHE_VERSION),
    );
    return dropped;
  })();
}
