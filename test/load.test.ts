/**
 * Load: 20 concurrent SDK sessions × 10 mixed operations, twice: no error,
 * nothing left running or mounted, no session left open, the live heap after
 * the second round no bigger than after the first (no leak per session), and
 * the engine's memory back under 120 MB after 10 s idle.
 *
 * Its first run (between 06:38 and 06:41 UTC on Nov 30) saw all 20
 * first-round sessions fail with ERR_MODULE_NOT_FOUND in the SDK client and
 * the second round pass: an `npm install` was rewriting the shared
 * node_modules/@opentelemetry packages the SDK imports in that minute (their
 * mtimes: 06:38:43–06:38:59), not an engine fault; it did not recur in five
 * runs since. A failed session's stderr is printed, so such a cause shows.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const SESSIONS = 20;
const ROUNDS = 2;
const MB = 1e6;

async function rssBytes(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? "0");
  return kb * 1024;
}

/** The engine's next idle collection after `seen` earlier ones (its debug line), with the live heap it left. */
async function idleCollection(engine: TestEngine, seen: number, timeoutMs: number): Promise<{ heapUsed: number; rss: number; count: number } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = engine.logs().match(/idle: memory collected .*/g) ?? [];
    if (lines.length > seen) {
      const last = lines[lines.length - 1]!;
      const field = (name: string): number => Number(new RegExp(`${name}=(\\d+)`).exec(last)?.[1]);
      return { heapUsed: field("heap_used"), rss: field("rss_after"), count: lines.length };
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("load", () => {
  let engine: TestEngine;
  let image: string;

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    engine = await startEngine();
  });
  after(() => engine.destroy());

  test(`${SESSIONS} sessions × 10 mixed ops, ${ROUNDS} rounds: 0 errors, 0 leaks, memory under 120 MB after 10 s idle`, async () => {
    const started = Date.now();
    let errors = 0;
    let okOps = 0;
    const heapAfter: number[] = [];
    const rssAfter: number[] = [];
    const roundMs: number[] = [];
    let collections = (await idleCollection(engine, 0, 5_000))?.count ?? 0;
    for (let round = 0; round < ROUNDS; round++) {
      const t = Date.now();
      const results = await Promise.all(
        Array.from({ length: SESSIONS }, (_, i) =>
          run([CLI, "run", "node", path.join(REPO, "test", "sdk", "mixed-ops.mjs")], {
            env: { ...engine.env, TANTO_TEST_IMAGE: image, TANTO_TEST_TAG: `r${round}-s${i}` },
            timeoutMs: 300_000,
          }),
        ),
      );
      roundMs.push(Date.now() - t);
      for (const r of results) {
        const line = r.stdout.trim().split("\n").pop() ?? "";
        const ok = r.code === 0 ? (JSON.parse(line) as { ok: number }).ok : 0;
        okOps += ok;
        if (r.code !== 0 || ok !== 10) {
          errors++;
          console.log(`session failed (exit ${r.code}, ${ok}/10 ops):\n${r.stderr.slice(0, 3000)}`);
        }
      }
      // Every session ended: the engine collects once idle; its live heap then is what the round left behind.
      const idle = await idleCollection(engine, collections, 10_000);
      assert.ok(idle, `no idle collection after round ${round + 1}`);
      collections = idle.count;
      heapAfter.push(idle.heapUsed);
      rssAfter.push(idle.rss);
    }
    const idleStart = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const rss = await rssBytes(engine.pid!);
    const left = await leftovers(engine.root);
    const sessions = (await engine.client.stats()).sessions;
    const growth = heapAfter[heapAfter.length - 1]! - heapAfter[0]!;
    console.log(
      `load: ${ROUNDS * SESSIONS} sessions, ${okOps}/${ROUNDS * SESSIONS * 10} ops ok, ${errors} errors; rounds ${roundMs.join(" + ")} ms; ` +
        `leaks: mounts ${left.mounts.length}, containers ${left.containers.length}, sessions ${sessions}, live heap after each round ${heapAfter.map((h) => (h / MB).toFixed(1)).join(" → ")} MB; ` +
        `engine RSS ${rssAfter.map((r) => (r / MB).toFixed(1)).join(" → ")} MB at each round's idle collection, ${(rss / MB).toFixed(1)} MB after ${Math.round((Date.now() - idleStart) / 1000)} s idle; ${Date.now() - started} ms in all`,
    );
    assert.equal(errors, 0);
    assert.deepEqual(left, { mounts: [], containers: [] });
    assert.equal(sessions, 0, "no session left open");
    // One round's worth of sessions again must not leave more behind than the first did.
    assert.ok(growth < 4 * MB, `the live heap grew by ${(growth / MB).toFixed(1)} MB from round 1 to round ${ROUNDS}`);
    assert.ok(rss < 120 * MB, `engine RSS ${(rss / MB).toFixed(1)} MB after 10 s idle`);
  });
});
