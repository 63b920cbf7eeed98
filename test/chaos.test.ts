/**
 * Crash safety: SIGKILL the engine at random points across 30 pipelines
 * (pulls, unpacks, execs, commits), restart it each time, and check that
 * nothing completed was lost and nothing is left over or inconsistent.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { buffer } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import tar from "tar-stream";
import { CLI, leftovers, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { busyboxLayer, pushImage } from "./support/images.js";
import { seededRandom } from "./support/random.js";

async function extraLayer(name: string): Promise<Buffer> {
  const pack = tar.pack();
  const done = buffer(pack);
  pack.entry({ name, mode: 0o644 }, `${name}\n`.repeat(50_000));
  pack.finalize();
  return done;
}

describe("crash safety", () => {
  let engine: TestEngine;
  let registry: string;
  const seed = Number(process.env["TANTO_CHAOS_SEED"] ?? Date.now() % 100_000);

  before(async () => {
    registry = await testRegistry();
    const base = await busyboxLayer();
    // Distinct images, so that pulls and unpacks happen throughout the run.
    for (let k = 0; k < 6; k++) {
      await pushImage(registry, [`chaos:${k}`], [base, { tar: await extraLayer(`layer-${k}-${seed}`), compression: "gzip" }]);
    }
    engine = await startEngine({ registry });
  });
  after(() => engine.destroy());

  test(`30 pipelines with random SIGKILLs lose nothing completed and leave nothing behind (seed ${seed})`, async () => {
    const rnd = seededRandom(seed);
    const pipeline = (i: number): string =>
      `{ container { from(address: "${registry}/chaos:${i % 6}") { withEnvVariable(name: "I", value: "${seed}-${i}") { withExec(args: ["sh", "-c", "sleep 0.$((RANDOM % 4)); dd if=/dev/zero of=/blob bs=64k count=$((RANDOM % 32)) 2>/dev/null; echo $I"]) { stdout } } } } }`;
    const completed: number[] = [];
    let kills = 0;
    for (let i = 0; i < 30; i++) {
      const query = run([CLI, "query", pipeline(i)], { env: engine.env, timeoutMs: 60_000 });
      if (rnd() < 0.6) {
        await new Promise((r) => setTimeout(r, Math.floor(rnd() * 400)));
        await engine.kill();
        kills++;
        await query;
        await engine.restart();
        const left = await leftovers(engine.root);
        assert.deepEqual(left, { mounts: [], containers: [] }, "a restart repairs what the crash left");
      }
      const r = await query;
      if (r.code === 0 && JSON.parse(r.stdout).container.from.withEnvVariable.withExec.stdout === `${seed}-${i}\n`) completed.push(i);
    }
    assert.ok(kills >= 10, `only ${kills} kills`);

    // Everything that completed is still a cache hit.
    await engine.restart();
    const before = (await engine.client.stats()).executed["exec"] ?? 0;
    for (const i of completed) {
      const r = await run([CLI, "query", pipeline(i)], { env: engine.env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    assert.equal((await engine.client.stats()).executed["exec"] ?? 0, before, `completed pipelines ${completed.join(",")} were all cache hits`);

    // The state on disk is consistent.
    assert.equal(await engine.stop(), 0);
    assert.deepEqual(await leftovers(engine.root), { mounts: [], containers: [] });
    const db = new BetterSqlite3(path.join(engine.root, "metadata.db"), { readonly: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      const names = db.prepare("SELECT id, name FROM snapshots").all() as Array<{ id: number; name: string }>;
      for (const s of names) {
        assert.ok((await fs.stat(path.join(engine.root, "snapshots", String(s.id), "fs"))).isDirectory(), `snapshot ${s.name} has its directory`);
      }
      const records = db.prepare("SELECT key, snapshot FROM cache_records WHERE snapshot IS NOT NULL").all() as Array<{ key: string; snapshot: number }>;
      const ids = new Set(names.map((s) => s.id));
      for (const r of records) assert.ok(ids.has(r.snapshot), `cache record ${r.key} points at an existing snapshot`);
      const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
      if (tables.has("layer_blobs")) {
        for (const { digest } of db.prepare("SELECT digest FROM layer_blobs").all() as Array<{ digest: string }>) {
          await fs
            .stat(path.join(engine.root, "content", "blobs", "sha256", digest.slice(7)))
            .catch(() => assert.fail(`blob ${digest} is referenced but missing`));
        }
      }
    } finally {
      db.close();
    }
    const ingest = await fs.readdir(path.join(engine.root, "content", "ingest")).catch(() => []);
    assert.deepEqual(ingest, [], "no half-written blobs");
    // Nothing of the network outlives a clean stop after all those crashes: dnsmasq, firewall chains, the bridge and its veths.
    const dnsmasq = (await run(["ps", "-eo", "args"])).stdout.split("\n").filter((l) => l.includes("dnsmasq") && l.includes(engine.root));
    const chains = (await run(["iptables-save"])).stdout.split("\n").filter((l) => l.includes(engine.networkName));
    const links = (await run(["ip", "-o", "link"])).stdout.split("\n").filter((l) => l.includes(engine.networkName));
    const runLeft = await fs.readdir(path.join(engine.root, "run")).catch(() => []);
    console.log(
      `chaos: ${kills} kills, ${completed.length} completed and all cached; leaks: dnsmasq ${dnsmasq.length}, iptables ${chains.length}, links ${links.length}, run/ entries ${runLeft.filter((e) => e !== "bundles").length}`,
    );
    assert.deepEqual({ dnsmasq, chains, links }, { dnsmasq: [], chains: [], links: [] });
    assert.deepEqual(
      runLeft.filter((e) => e !== "bundles"),
      [],
      "no temp files under run/",
    );
    await engine.restart();
  });
});
