import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { type Database, migrate, openDatabase } from "../metadata/database.js";
import { type Digest, sha256 } from "../oci/digest.js";
import { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { RecordBlobOwnership, SqliteCacheRecords } from "./cache-records.js";

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-records-"));
});
after(() => fs.rm(dir, { recursive: true, force: true }));

async function fresh(name: string): Promise<{ db: Database; snapshots: OverlaySnapshotter; blobs: Set<string> }> {
  const db = openDatabase(path.join(dir, name, "metadata.db"));
  const snapshots = await OverlaySnapshotter.open(path.join(dir, name, "snapshots"), db);
  return { db, snapshots, blobs: new Set() };
}

async function commit(snapshots: OverlaySnapshotter, name: string): Promise<void> {
  await snapshots.commit(await snapshots.prepare(undefined), name);
}

const key = (s: string): Digest => sha256(s);

test("removing a writable mount's snapshot removes the exec record owning it, in the same step", async () => {
  const { db, snapshots } = await fresh("mounts");
  await commit(snapshots, "exec/root");
  await commit(snapshots, "exec/root/m1");
  const records = new SqliteCacheRecords(db);
  const result = { snapshot: "exec/root", meta: { exitCode: 0, mounts: { "1": "exec/root/m1" } }, owns: { snapshots: ["exec/root/m1"] } };
  records.put(key("exec"), "exec", result, snapshots.get("exec/root")!.id, 5);
  assert.deepEqual(records.get(key("exec")), result);

  assert.ok(snapshots.detach("exec/root/m1"), "the mount's snapshot is a leaf");
  assert.equal(records.get(key("exec")), undefined, "the record went with its mount snapshot");
  assert.equal((db.prepare("SELECT count(*) AS n FROM cache_record_parts").get() as { n: number }).n, 0);
  // Its root snapshot stays (nothing owns it now) for the collector to age out.
  assert.ok(snapshots.get("exec/root"));
});

test("a result whose parts are already gone is not recorded", async () => {
  const { db, snapshots } = await fresh("gone");
  await commit(snapshots, "exec/a");
  const records = new SqliteCacheRecords(db, () => false);
  records.put(key("a"), "exec", { snapshot: "exec/a", meta: {}, owns: { snapshots: ["exec/a/m0"] } }, undefined, 1);
  assert.equal(records.get(key("a")), undefined, "mount snapshot missing");
  records.put(key("b"), "http-file", { snapshot: "exec/a", meta: {}, owns: { blobs: [sha256("x")] } }, undefined, 1);
  assert.equal(records.get(key("b")), undefined, "blob missing");
  records.put(key("c"), "exec", { snapshot: "exec/a", meta: {} }, undefined, 1);
  assert.ok(records.get(key("c")), "a whole result is recorded");
});

test("a record whose blob went missing is a miss, and is deleted", async () => {
  const { db, snapshots, blobs } = await fresh("blobs");
  await commit(snapshots, "http/a");
  const blob = sha256("download");
  blobs.add(blob);
  const records = new SqliteCacheRecords(db, (d) => blobs.has(d));
  records.put(key("dl"), "http-file", { snapshot: "http/a", meta: {}, owns: { blobs: [blob] } }, undefined, 1);
  assert.ok(records.get(key("dl")));
  blobs.delete(blob);
  assert.equal(records.get(key("dl")), undefined);
  assert.equal(db.prepare("SELECT 1 FROM cache_records WHERE key = ?").get(key("dl")), undefined);
});

test("blob ownership: the collector sees owned blobs by last use and drops their records first", async () => {
  const { db, snapshots } = await fresh("owners");
  await commit(snapshots, "image-tarball/t");
  const records = new SqliteCacheRecords(db);
  const owners = new RecordBlobOwnership(db);
  const manifest = sha256("manifest");
  records.put(key("t"), "image-tarball", { snapshot: "image-tarball/t", meta: {}, owns: { blobs: [manifest] } }, undefined, 1);
  const owned = owners.owned().get(manifest);
  assert.equal(owned?.kind, "image-tarball");
  assert.ok((owned?.lastUsed ?? 0) > 0);
  assert.equal(owners.release(manifest), 1);
  assert.equal(records.get(key("t")), undefined);
  assert.equal(owners.owned().size, 0);
});

test("a hit is a use of the record's snapshots (the collector's LRU sees it)", async () => {
  const { db, snapshots } = await fresh("touch");
  await commit(snapshots, "exec/t");
  await commit(snapshots, "exec/t/m0");
  db.prepare("UPDATE snapshots SET last_used = 1").run();
  const records = new SqliteCacheRecords(db);
  records.put(key("t"), "exec", { snapshot: "exec/t", meta: {}, owns: { snapshots: ["exec/t/m0"] } }, undefined, 1);
  records.get(key("t"));
  for (const s of snapshots.list()) assert.ok(s.lastUsed > 1, `${s.name} touched`);
});

test("an existing database migrates: parts from results, records with missing mounts dropped", async () => {
  const file = path.join(dir, "old.db");
  const old = new BetterSqlite3(file);
  old.pragma("foreign_keys = ON");
  migrate(old, 2);
  const snap = old.prepare("INSERT INTO snapshots (name, parent, state, created, last_used) VALUES (?, NULL, 'committed', 1, 1)");
  const root = Number(snap.run("exec/r").lastInsertRowid);
  const mount = Number(snap.run("exec/r/m0").lastInsertRowid);
  const rec = old.prepare("INSERT INTO cache_records (key, kind, result, snapshot, created, last_used, duration_ms) VALUES (?, ?, ?, ?, 1, 1, 1)");
  rec.run("whole", "exec", JSON.stringify({ snapshot: "exec/r", meta: { mounts: { "0": "exec/r/m0" } } }), root);
  rec.run("broken", "exec", JSON.stringify({ snapshot: "exec/r", meta: { mounts: { "0": "exec/gone/m0" } } }), root);
  rec.run("plain", "file", JSON.stringify({ meta: { digest: "x" } }), null);
  old.close();

  const db = openDatabase(file);
  const keys = (db.prepare("SELECT key FROM cache_records ORDER BY key").all() as Array<{ key: string }>).map((r) => r.key);
  assert.deepEqual(keys, ["plain", "whole"]);
  const parts = db.prepare("SELECT snapshot FROM cache_record_parts WHERE record = 'whole' ORDER BY snapshot").all() as Array<{ snapshot: number }>;
  assert.deepEqual(
    parts.map((p) => p.snapshot),
    [root, mount],
  );
  // From now on the mount's removal takes the record.
  db.prepare("DELETE FROM snapshots WHERE id = ?").run(mount);
  assert.equal(db.prepare("SELECT 1 FROM cache_records WHERE key = 'whole'").get(), undefined);
  db.close();
  assert.ok(existsSync(file));
});
