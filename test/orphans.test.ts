/**
 * Orphans at start: what a kill -9 between a write and its record leaves on
 * disk — snapshot directories without a row, an active snapshot, committed
 * snapshots no record references, a blob nothing holds — is removed when the
 * engine starts, counted in one log line, and nothing referenced is touched.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { CLI, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

describe("orphans at start", () => {
  let engine: TestEngine;
  let image: string;

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    engine = await startEngine();
  });
  after(() => engine.destroy());

  test("snapshot directories, snapshots and blobs nothing references are removed at start; referenced ones stay", async () => {
    const tag = randomBytes(4).toString("hex");
    const query = `{ container { from(address: "${image}") { withExec(args: ["sh", "-c", "echo ${tag} | tee /out"]) { stdout } } } }`;
    const first = await run([CLI, "query", query], { env: engine.env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await engine.stop(), 0);

    // The state a crash between write and record leaves, made by hand on the stopped engine's root.
    const snapshotsDir = path.join(engine.root, "snapshots");
    const blobsDir = path.join(engine.root, "content", "blobs", "sha256");
    const db = new BetterSqlite3(path.join(engine.root, "metadata.db"));
    let made: { stray: string; trash: string; active: number; parent: number; child: number; blob: string };
    try {
      const next = (db.prepare("SELECT next FROM snapshot_ids").get() as { next: number }).next;
      const [active, parent, child] = [next, next + 1, next + 2];
      const now = Date.now();
      const insert = db.prepare("INSERT INTO snapshots (id, name, parent, state, created, last_used) VALUES (?, ?, ?, ?, ?, ?)");
      insert.run(active, `active/${active}`, null, "active", now, now);
      insert.run(parent, `exec/${randomBytes(32).toString("hex")}`, null, "committed", now, now);
      insert.run(child, `exec/${randomBytes(32).toString("hex")}`, parent, "committed", now, now);
      db.prepare("UPDATE snapshot_ids SET next = ?").run(next + 3);
      for (const id of [active, parent, child]) {
        await fs.mkdir(path.join(snapshotsDir, String(id), "fs"), { recursive: true });
        await fs.writeFile(path.join(snapshotsDir, String(id), "fs", "data"), `orphan ${id}\n`);
      }
      const stray = path.join(snapshotsDir, String(next + 50));
      await fs.mkdir(path.join(stray, "fs"), { recursive: true });
      const trash = path.join(snapshotsDir, `.trash-${next + 60}`);
      await fs.mkdir(path.join(trash, "fs"), { recursive: true });
      const bytes = randomBytes(4096);
      const blob = path.join(blobsDir, createHash("sha256").update(bytes).digest("hex"));
      await fs.writeFile(blob, bytes);
      made = { stray, trash, active, parent, child, blob };
    } finally {
      db.close();
    }

    await engine.restart();
    const line = /removed what nothing references (.*)/.exec(engine.logs())?.[1] ?? "";
    const count = (field: string): number => Number(new RegExp(`(?:^| )${field}=(\\d+)`).exec(line)?.[1] ?? "NaN");
    console.log(`orphans at start: ${line}`);
    assert.equal(count("snapshot_dirs"), 3, "the stray directory, the one moved aside and the active snapshot's");
    assert.equal(count("active_snapshots"), 1);
    assert.equal(count("snapshots"), 2, "the orphan and its orphan parent");
    assert.ok(count("blobs") >= 1, line);
    for (const p of [made.stray, made.trash, made.blob, ...[made.active, made.parent, made.child].map((id) => path.join(snapshotsDir, String(id)))]) {
      await assert.rejects(fs.stat(p), `${p} is gone`);
    }

    // What was referenced is untouched: the pipeline is a cache hit with the same output.
    const execs = (await engine.client.stats()).executed["exec"] ?? 0;
    const again = await run([CLI, "query", query], { env: engine.env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, first.stdout);
    assert.equal((await engine.client.stats()).executed["exec"] ?? 0, execs, "answered from cache");

    // And the state is whole: every row has its directory, every directory its row, every recorded blob exists.
    assert.equal(await engine.stop(), 0);
    const check = new BetterSqlite3(path.join(engine.root, "metadata.db"), { readonly: true });
    try {
      assert.equal(check.pragma("integrity_check", { simple: true }), "ok");
      const ids = (check.prepare("SELECT id FROM snapshots").all() as Array<{ id: number }>).map((r) => String(r.id)).sort();
      assert.deepEqual((await fs.readdir(snapshotsDir)).sort(), ids);
      for (const { digest } of check.prepare("SELECT digest FROM layer_blobs").all() as Array<{ digest: string }>) {
        await fs.stat(path.join(blobsDir, digest.slice(7)));
      }
    } finally {
      check.close();
    }
    // A clean stop leaves no orphan snapshot (blobs: the manifest and config the second query fetched, cached for it only).
    await engine.restart();
    const clean = /removed what nothing references (.*)/.exec(engine.logs())?.[1] ?? "";
    assert.doesNotMatch(clean, /snapshot_dirs=[1-9]|active_snapshots=[1-9]| snapshots=[1-9]/, clean);
  });
});
