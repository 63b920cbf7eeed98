/**
 * Snapshot identity: ids are never reused (not after an abort, a removal, a
 * restart, nor in a database made before the id sequence existed), a
 * directory goes before its row, and racing commits of one name agree.
 */

import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { openDatabase } from "../metadata/database.js";
import { mount, unmount } from "../mount/mount.js";
import { OverlaySnapshotter } from "./overlay-snapshotter.js";

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), "tanto-snapshots-"));
}

test("ids are never reused: after an abort, a removal, or a restart", async () => {
  const dir = await scratch();
  try {
    let db = openDatabase(join(dir, "metadata.db"));
    let snaps = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
    const seen = new Set<number>();
    const fresh = (id: number): void => {
      assert.ok(!seen.has(id), `id ${id} handed out twice`);
      seen.add(id);
    };

    const base = await snaps.prepare(undefined);
    fresh(base.id);
    const committed = await snaps.commit(base, "base");
    for (let i = 0; i < 3; i++) {
      const a = await snaps.prepare(committed);
      fresh(a.id);
      await snaps.abort(a);
    }
    const child = await snaps.prepare(committed);
    fresh(child.id);
    await snaps.remove((await snaps.commit(child, "child")).name);
    const after = await snaps.prepare(committed);
    fresh(after.id);
    await snaps.abort(after);
    assert.deepEqual(await readdir(join(dir, "snapshots")), [String(base.id)], "aborted and removed snapshots leave no directory");

    db.close();
    db = openDatabase(join(dir, "metadata.db"));
    snaps = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
    const reopened = await snaps.prepare(snaps.get("base"));
    fresh(reopened.id);
    assert.ok(reopened.id > Math.max(...[...seen].filter((i) => i !== reopened.id)), "the sequence survives a restart");
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a database from before the id sequence migrates and never reuses an id", async () => {
  const dir = await scratch();
  try {
    const file = join(dir, "metadata.db");
    // The schema as it was at user_version 2, with snapshot 3 deleted (its id would be SQLite's next).
    const old = new BetterSqlite3(file);
    old.exec(`CREATE TABLE snapshots (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, parent INTEGER REFERENCES snapshots(id),
                state TEXT NOT NULL CHECK (state IN ('active', 'committed')), created INTEGER NOT NULL, last_used INTEGER NOT NULL,
                size INTEGER NOT NULL DEFAULT 0);
              CREATE INDEX snapshots_parent ON snapshots(parent);
              CREATE TABLE cache_records (key TEXT PRIMARY KEY, kind TEXT NOT NULL, result TEXT NOT NULL, snapshot INTEGER REFERENCES snapshots(id),
                created INTEGER NOT NULL, last_used INTEGER NOT NULL, duration_ms INTEGER NOT NULL);
              CREATE INDEX cache_records_snapshot ON cache_records(snapshot);
              CREATE TABLE cache_volumes (key TEXT PRIMARY KEY, dir TEXT NOT NULL UNIQUE, created INTEGER NOT NULL, last_used INTEGER NOT NULL);
              CREATE TABLE layer_blobs (snapshot INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                compression TEXT NOT NULL CHECK (compression IN ('gzip', 'zstd', 'none')), digest TEXT NOT NULL, size INTEGER NOT NULL,
                diff_id TEXT NOT NULL, PRIMARY KEY (snapshot, compression));
              INSERT INTO snapshots (id, name, parent, state, created, last_used) VALUES (1, 'a', NULL, 'committed', 0, 0), (2, 'b', 1, 'committed', 0, 0);
              PRAGMA user_version = 2;`);
    old.close();
    const db = openDatabase(file);
    assert.ok((db.pragma("user_version", { simple: true }) as number) >= 3);
    const snaps = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
    assert.equal(snaps.get("b")?.chain.join(","), "2,1", "existing snapshots are kept");
    const a = await snaps.prepare(snaps.get("b"));
    assert.equal(a.id, 3);
    await snaps.abort(a);
    const b = await snaps.prepare(snaps.get("b"));
    assert.equal(b.id, 4, "the aborted id 3 is not handed out again");
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("racing commits of one name: one snapshot wins, the other is dropped, no constraint error", async () => {
  const dir = await scratch();
  try {
    const db = openDatabase(join(dir, "metadata.db"));
    const snaps = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
    const actives = await Promise.all(Array.from({ length: 8 }, () => snaps.prepare(undefined)));
    for (const a of actives) await writeFile(join(a.upperDir, "f"), "same content");
    const results = await Promise.all(actives.map((a) => snaps.commit(a, "same")));
    assert.equal(new Set(results.map((r) => r.id)).size, 1, "every committer gets the one snapshot");
    assert.deepEqual(await readdir(join(dir, "snapshots")), [String(results[0]!.id)], "the losers' directories are gone");
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM snapshots").get() as { n: number }).n, 1, "and so are their rows");
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a snapshot committed while mounted settles after its unmount: prepare on it waits, its workdir goes then", {
  skip: process.getuid?.() !== 0,
}, async () => {
  const dir = await scratch();
  const db = openDatabase(join(dir, "metadata.db"));
  const target = join(dir, "mnt");
  try {
    const snaps = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
    const base = await snaps.commit(await snaps.prepare(undefined), "base");
    const active = await snaps.prepare(base);
    await mkdir(target);
    await mount(snaps.mounts(active), target);
    await writeFile(join(target, "written"), "x");
    let release!: () => void;
    const unmounted = new Promise<void>((r) => (release = r));
    const committed = await snaps.commit(active, "on-top", { unmounted });
    assert.equal(snaps.get("on-top"), committed, "committed at once");
    assert.equal(await readFile(join(snaps.layerDir(committed), "written"), "utf8"), "x");

    let prepared = false;
    const child = snaps.prepare(committed).then((a) => {
      prepared = true;
      return a;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(prepared, false, "no snapshot is prepared on an upperdir still mounted");
    await unmount(target);
    release();
    await snaps.abort(await child);
    await snaps.whenAllSettled();
    assert.deepEqual(await readdir(snaps.dirOf(committed.id)), ["fs"], "the workdir is removed after the unmount");

    // A duplicate name: the second active snapshot is dropped, after its unmount.
    const twin = await snaps.prepare(base);
    let releaseTwin!: () => void;
    const kept = await snaps.commit(twin, "on-top", { unmounted: new Promise<void>((r) => (releaseTwin = r)) });
    assert.equal(kept, committed, "the first commit of a name stays");
    assert.ok((await readdir(join(dir, "snapshots"))).includes(String(twin.id)), "kept until unmounted");
    releaseTwin();
    await snaps.whenAllSettled();
    assert.ok(!(await readdir(join(dir, "snapshots"))).includes(String(twin.id)), "then removed");
  } finally {
    await unmount(target).catch(() => undefined);
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a removal a crash cut short (directory moved aside, row still there) gets its directory back at open", async () => {
  const dir = await scratch();
  try {
    let db = openDatabase(join(dir, "metadata.db"));
    let snaps = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
    const base = await snaps.prepare(undefined);
    await writeFile(join(dir, "snapshots", String(base.id), "fs", "kept"), "yes");
    const committed = await snaps.commit(base, "base");
    db.close();
    // What detach() does first, and a SIGKILL before its transaction.
    await rename(join(dir, "snapshots", String(committed.id)), join(dir, "snapshots", `.trash-${committed.id}`));

    db = openDatabase(join(dir, "metadata.db"));
    snaps = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
    assert.equal(snaps.get("base")?.id, committed.id);
    assert.equal(await readFile(join(dir, "snapshots", String(committed.id), "fs", "kept"), "utf8"), "yes");
    assert.deepEqual(await readdir(join(dir, "snapshots")), [String(committed.id)]);
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
