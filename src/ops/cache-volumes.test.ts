import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { openDatabase } from "../metadata/database.js";
import { CacheVolumes } from "./cache-volumes.js";

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-volumes-"));
});
after(() => fs.rm(dir, { recursive: true, force: true }));

test("the collector sees volumes with size and last use, and never removes one in use", async () => {
  const db = openDatabase(path.join(dir, "metadata.db"));
  const volumes = new CacheVolumes(path.join(dir, "volumes"), db);
  const lease = await volumes.acquire("deps", "SHARED");
  await fs.writeFile(path.join(lease.dir, "f"), "x".repeat(10_000));
  const idle = await volumes.acquire("old", "LOCKED");
  await idle[Symbol.asyncDispose]();

  const entries = await volumes.cacheEntries();
  const byDir = new Map(entries.map((e) => [e.dir, e]));
  assert.equal(entries.length, 2);
  assert.equal(byDir.get(lease.dir)?.inUse, true);
  assert.equal(byDir.get(idle.dir)?.inUse, false);
  assert.ok((byDir.get(idle.dir)?.lastUsed ?? 0) > 0);

  const busyId = path.basename(lease.dir);
  assert.equal(await volumes.removeCacheEntry(busyId), false, "a mounted volume stays");
  assert.ok(existsSync(path.join(lease.dir, "f")));
  assert.equal(await volumes.removeCacheEntry(path.basename(idle.dir)), true);
  assert.ok(!existsSync(idle.dir));
  assert.equal(db.prepare("SELECT 1 FROM cache_volumes WHERE key = 'old'").get(), undefined);

  // Released, it may go; a later user starts from an empty volume.
  await lease[Symbol.asyncDispose]();
  assert.equal(await volumes.removeCacheEntry(busyId), true);
  const again = await volumes.acquire("deps", "SHARED");
  assert.deepEqual(await fs.readdir(again.dir), []);
  await again[Symbol.asyncDispose]();
  // Nothing left aside.
  assert.deepEqual((await fs.readdir(path.join(dir, "volumes"))).sort(), [busyId]);
  db.close();
});

test("a volume being opened counts as in use", async () => {
  const db = openDatabase(path.join(dir, "opening.db"));
  const volumes = new CacheVolumes(path.join(dir, "opening"), db);
  const first = await volumes.acquire("k", "SHARED");
  await first[Symbol.asyncDispose]();
  const id = path.basename(first.dir);
  const opening = volumes.acquire("k", "SHARED");
  // Synchronously after the call, before its mkdir finished.
  assert.equal(volumes.inUse(id), true);
  assert.equal(await volumes.removeCacheEntry(id), false);
  const lease = await opening;
  assert.ok(existsSync(lease.dir));
  await lease[Symbol.asyncDispose]();
  db.close();
});
