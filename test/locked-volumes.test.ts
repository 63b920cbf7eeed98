/**
 * LOCKED cache volumes cannot get stuck: one exec mounting a volume twice as
 * LOCKED is an error (not a hang), a wait for a LOCKED volume ends with its
 * session, and a session's end releases the lock it held.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { RawSession } from "./support/raw-session.js";

describe("LOCKED cache volumes", () => {
  let engine: TestEngine;
  let image: string;
  let url: string;

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    engine = await startEngine({ configText: `[registry."${image.split("/")[0]}"]\nhttp = true\n[network]\nenabled = false\n` });
    url = engine.env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]!;
  });
  after(() => engine.destroy());

  /** A query using volume `key` LOCKED at each of `targets` and running `script`. */
  async function lockedQuery(s: RawSession, key: string, targets: string[], script: string): Promise<string> {
    const vol = await s.query(`{ cacheVolume(key: "${key}") { id } }`);
    const id = JSON.stringify((vol.data as { cacheVolume: { id: string } }).cacheVolume.id);
    let chain = `container { from(address: "${image}") { withEnvVariable(name: "N", value: "${Date.now()}-${Math.random()}") {`;
    let close = "} }";
    for (const t of targets) {
      chain += ` withMountedCache(path: "${t}", cache: ${id}, sharing: LOCKED) {`;
      close += " }";
    }
    return `{ ${chain} withExec(args: ["sh", "-c", ${JSON.stringify(script)}]) { stdout } } ${close} }`;
  }

  test("the same volume twice as LOCKED in one exec is an error, at once", async () => {
    const s = await RawSession.open(url, {});
    try {
      const started = Date.now();
      const r = await s.query(await lockedQuery(s, "twice", ["/a", "/b"], "echo never"), 15_000);
      const ms = Date.now() - started;
      console.log(`double LOCKED: answered in ${ms} ms: ${r.errors?.[0]?.message}`);
      assert.match(r.errors?.[0]?.message ?? "", /cache volume "twice" is mounted twice in one exec \(at \/a as LOCKED and at \/b as LOCKED\)/);
      // The volume is not left locked: a valid LOCKED use runs.
      const ok = await s.query(await lockedQuery(s, "twice", ["/a"], "echo fine"), 30_000);
      assert.equal((JSON.stringify(ok.data).match(/fine/) ?? []).length, 1, JSON.stringify(ok));
    } finally {
      await s.hangUp();
    }
  });

  test("a waiter is cancelled when its session ends, and a holder's end releases the lock", async () => {
    const holderSession = await RawSession.open(url, {});
    const holderQuery = await lockedQuery(holderSession, "held", ["/v"], "sleep 60; echo late");
    await holderSession.hangUp();
    // The holder: a real client process, killed with -9 while its exec holds the lock.
    const holder = spawn(CLI, ["query", holderQuery], { env: engine.env, stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 3_000));

    // A waiter in another session, which hangs up while it waits.
    const waiter = await RawSession.open(url, {});
    const waited = waiter
      .query(await lockedQuery(waiter, "held", ["/v"], "echo waiter"), 60_000)
      .catch((err: unknown) => ({ errors: [{ message: String(err) }] }));
    await new Promise((r) => setTimeout(r, 1_000));
    const hungUp = Date.now();
    await waiter.hangUp();
    await waited;

    holder.kill("SIGKILL");
    const killed = Date.now();
    // After both ends, a third session gets the volume within seconds.
    const third = await RawSession.open(url, {});
    try {
      const r = await third.query(await lockedQuery(third, "held", ["/v"], "echo third"), 30_000);
      const waitedMs = Date.now() - killed;
      console.log(`locked: waiter hung up after ${killed - hungUp} ms; third user got the volume ${waitedMs} ms after the holder's client died`);
      assert.match(JSON.stringify(r), /third/);
      assert.ok(waitedMs < 15_000, `released in ${waitedMs} ms`);
    } finally {
      await third.hangUp();
    }
    const left = await leftovers(engine.root);
    console.log(`locked: leaked mounts ${left.mounts.length}, containers ${left.containers.length}`);
    assert.deepEqual(left, { mounts: [], containers: [] });
    assert.equal((await run([CLI, "query", "{ version }"], { env: engine.env })).code, 0);
  });
});
