/**
 * Crash safety: SIGKILL the engine at random points across 30 pipelines
 * (pulls, unpacks, execs, commits), then inside publishes (compress, push,
 * record) and GC passes (prune --all / --keep-storage); restart it each time,
 * and check that nothing completed was lost (cache hits, identical answers,
 * published images in the registry) and nothing is left over or inconsistent
 * (integrity_check, every record's snapshot and blobs there, no mounts,
 * containers, half-written or half-removed files, network leftovers).
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
    const found = await consistency(engine);
    console.log(
      `chaos: ${kills} kills, ${completed.length} completed and all cached; corrupt records ${found.corruptRecords}; leaks: dnsmasq ${found.dnsmasq.length}, iptables ${found.chains.length}, links ${found.links.length}, run/ entries ${found.runLeft.length}`,
    );
    assertConsistent(found);
    await engine.restart();
  });

  test(`kills inside publish and GC lose nothing completed and corrupt nothing (seed ${seed})`, async () => {
    // With the 30 pipelines above, about 30 kills in all.
    const ROUNDS = 6;
    const rnd = seededRandom(seed + 1);
    let publishKills = 0;
    let gcKills = 0;
    const killAndRestart = async (): Promise<void> => {
      await engine.kill();
      await engine.restart();
      assert.deepEqual(await leftovers(engine.root), { mounts: [], containers: [] }, "a restart repairs what the crash left");
    };
    // A few MB of incompressible data: publishing compresses and pushes it, which takes a moment to kill in.
    const exec = (tag: string): string =>
      `withEnvVariable(name: "P", value: "${tag}") { withExec(args: ["sh", "-c", "head -c 3000000 /dev/urandom > /blob; echo $P"])`;
    const stdoutQuery = (tag: string, k: number): string => `{ container { from(address: "${registry}/chaos:${k % 6}") { ${exec(tag)} { stdout } } } } }`;
    const publishQuery = (tag: string, k: number): string =>
      `{ container { from(address: "${registry}/chaos:${k % 6}") { ${exec(tag)} { publish(address: "${registry}/chaos-pub:${tag}") } } } } }`;

    const published: Array<{ tag: string; k: number; ref: string }> = [];
    const completed: Array<{ tag: string; k: number }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const tag = `${seed}-p${i}`;
      // The exec completes first, so the kill lands in the publish (compress, push, record).
      const r = await run([CLI, "query", stdoutQuery(tag, i)], { env: engine.env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      completed.push({ tag, k: i });
      const publish = run([CLI, "query", publishQuery(tag, i)], { env: engine.env, timeoutMs: 60_000 });
      if (rnd() < 0.75) {
        await new Promise((r) => setTimeout(r, 100 + Math.floor(rnd() * 600)));
        publishKills++;
        await killAndRestart();
      }
      const p = await publish;
      if (p.code === 0)
        published.push({
          tag,
          k: i,
          ref: (JSON.parse(p.stdout) as { container: { from: Record<string, Record<string, { publish: string }>> } }).container.from["withEnvVariable"]![
            "withExec"
          ]!.publish,
        });
    }
    for (let i = 0; i < ROUNDS; i++) {
      const tag = `${seed}-g${i}`;
      const r = await run([CLI, "query", stdoutQuery(tag, i)], { env: engine.env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      completed.push({ tag, k: i });
      const prune = run([CLI, "engine", "prune", ...(i % 2 === 0 ? ["--all"] : ["--keep-storage", "1MB"])], { env: engine.env, timeoutMs: 60_000 });
      if (rnd() < 0.75) {
        await new Promise((r) => setTimeout(r, Math.floor(rnd() * 300)));
        gcKills++;
        await killAndRestart();
      }
      await prune;
    }
    assert.ok(publishKills + gcKills >= 5, `only ${publishKills + gcKills} kills`);

    // Every completed publish is in the registry, under the digest it answered with.
    let lostPublishes = 0;
    for (const p of published) {
      const digest = p.ref.slice(p.ref.indexOf("@") + 1);
      const res = await fetch(`http://${registry}/v2/chaos-pub/manifests/${digest}`, {
        method: "HEAD",
        headers: {
          accept: [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
          ].join(", "),
        },
      });
      if (res.status !== 200) lostPublishes++;
    }
    // Every completed pipeline answers as it did (from cache, or run again where a GC took its record).
    await engine.restart();
    let wrong = 0;
    for (const c of completed) {
      const r = await run([CLI, "query", stdoutQuery(c.tag, c.k)], { env: engine.env, timeoutMs: 60_000 });
      if (r.code !== 0 || JSON.parse(r.stdout).container.from.withEnvVariable.withExec.stdout !== `${c.tag}\n`) wrong++;
    }
    assert.equal(await engine.stop(), 0);
    const found = await consistency(engine);
    console.log(
      `chaos publish/GC: ${publishKills} kills in publish, ${gcKills} in GC; ${published.length} publishes completed, ${lostPublishes} lost; ${completed.length} pipelines, ${wrong} wrong answers; corrupt records ${found.corruptRecords}; leaks: mounts ${found.left.mounts.length}, containers ${found.left.containers.length}, dnsmasq ${found.dnsmasq.length}, iptables ${found.chains.length}, links ${found.links.length}, run/ entries ${found.runLeft.length}, trash ${found.trash.length}`,
    );
    assert.equal(lostPublishes, 0);
    assert.equal(wrong, 0);
    assertConsistent(found);
    await engine.restart();
  });
});

interface Consistency {
  /** Records pointing at a snapshot or blob that is gone, snapshot rows without their directory, recorded layer blobs missing. */
  corruptRecords: number;
  problems: string[];
  integrity: unknown;
  left: { mounts: string[]; containers: string[] };
  ingest: string[];
  trash: string[];
  dnsmasq: string[];
  chains: string[];
  links: string[];
  runLeft: string[];
}

/** What a stopped engine's state must look like after any number of crashes. */
async function consistency(engine: TestEngine): Promise<Consistency> {
  const problems: string[] = [];
  const db = new BetterSqlite3(path.join(engine.root, "metadata.db"), { readonly: true });
  let integrity: unknown;
  try {
    integrity = db.pragma("integrity_check", { simple: true });
    const names = db.prepare("SELECT id, name FROM snapshots").all() as Array<{ id: number; name: string }>;
    for (const s of names) {
      const dir = await fs.stat(path.join(engine.root, "snapshots", String(s.id), "fs")).catch(() => undefined);
      if (!dir?.isDirectory()) problems.push(`snapshot ${s.name} has no directory`);
    }
    const ids = new Set(names.map((s) => s.id));
    for (const r of db.prepare("SELECT key, snapshot FROM cache_records WHERE snapshot IS NOT NULL").all() as Array<{ key: string; snapshot: number }>) {
      if (!ids.has(r.snapshot)) problems.push(`cache record ${r.key} points at a missing snapshot`);
    }
    const blobPath = (digest: string): string => path.join(engine.root, "content", "blobs", "sha256", digest.slice(7));
    for (const { record, blob } of db.prepare("SELECT record, blob FROM cache_record_parts WHERE blob IS NOT NULL").all() as Array<{
      record: string;
      blob: string;
    }>) {
      if (!(await fs.stat(blobPath(blob)).catch(() => undefined))) problems.push(`cache record ${record} owns missing blob ${blob}`);
    }
    for (const { digest } of db.prepare("SELECT digest FROM layer_blobs").all() as Array<{ digest: string }>) {
      if (!(await fs.stat(blobPath(digest)).catch(() => undefined))) problems.push(`blob ${digest} is referenced but missing`);
    }
  } finally {
    db.close();
  }
  const ingest = await fs.readdir(path.join(engine.root, "content", "ingest")).catch(() => []);
  const trash = (await fs.readdir(path.join(engine.root, "snapshots")).catch(() => [])).filter((e) => e.startsWith(".trash"));
  // Nothing of the network outlives a clean stop after all those crashes: dnsmasq, firewall chains, the bridge and its veths.
  const dnsmasq = (await run(["ps", "-eo", "args"])).stdout.split("\n").filter((l) => l.includes("dnsmasq") && l.includes(engine.root));
  const chains = (await run(["iptables-save"])).stdout.split("\n").filter((l) => l.includes(engine.networkName));
  const links = (await run(["ip", "-o", "link"])).stdout.split("\n").filter((l) => l.includes(engine.networkName));
  // The two tmpfs mount points stay, empty once unmounted.
  const runDir = path.join(engine.root, "run");
  const runLeft: string[] = [];
  for (const e of await fs.readdir(runDir).catch(() => [])) {
    if (e !== "bundles" && e !== "containers") runLeft.push(e);
    else runLeft.push(...(await fs.readdir(path.join(runDir, e))).map((f) => `${e}/${f}`));
  }
  return { corruptRecords: problems.length, problems, integrity, left: await leftovers(engine.root), ingest, trash, dnsmasq, chains, links, runLeft };
}

function assertConsistent(found: Consistency): void {
  assert.equal(found.integrity, "ok");
  assert.deepEqual(found.problems, []);
  assert.deepEqual(found.left, { mounts: [], containers: [] });
  assert.deepEqual(found.ingest, [], "no half-written blobs");
  assert.deepEqual(found.trash, [], "no snapshot directory left half-removed");
  assert.deepEqual({ dnsmasq: found.dnsmasq, chains: found.chains, links: found.links }, { dnsmasq: [], chains: [], links: [] });
  assert.deepEqual(found.runLeft, [], "no temp files under run/");
}
