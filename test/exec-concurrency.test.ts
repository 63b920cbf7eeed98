/**
 * 100 distinct `sleep 1` execs at once from one SDK session, against the
 * parallelism limit (engine.toml's `[worker.oci] max-parallelism`):
 *
 * - at 4, the run takes at least the ideal 25 s (so the limit holds) and at
 *   most 1.3 × that (the goal is 1.1×; the margin is for a loaded 2-core CI
 *   machine): per exec, the work around the container must stay small;
 * - at 100, with the network namespace pool (which follows the limit) filled
 *   first, all of them run together: at most 6 s (the goal is 3 s).
 *
 * Each run's time is printed. Real engine, runc, overlayfs, CNI and the SDK.
 */

import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const EXECS = 100;

async function burst(engine: TestEngine, image: string, tag: string): Promise<number> {
  const before = (await engine.client.stats()).executed["exec"] ?? 0;
  const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "concurrent-sleeps.mjs")], {
    env: { ...engine.env, TANTO_TEST_IMAGE: image, TANTO_TEST_TAG: tag, TANTO_TEST_EXECS: String(EXECS), TANTO_TEST_SLEEP: "1" },
    timeoutMs: 300_000,
  });
  assert.equal(r.code, 0, r.stderr.slice(-4000));
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ms: number; execs: number; failed: number };
  assert.deepEqual({ execs: out.execs, failed: out.failed }, { execs: EXECS, failed: 0 });
  const executed = ((await engine.client.stats()).executed["exec"] ?? 0) - before;
  assert.equal(executed, EXECS + 1, "every exec ran (none cached), plus the warm-up");
  return out.ms;
}

async function engineWith(registry: string, parallelism: number): Promise<TestEngine> {
  return startEngine({
    registry,
    configText: `[registry."${registry}"]\nhttp = true\n[worker.oci]\nmax-parallelism = ${parallelism}\n`,
  });
}

describe("concurrent execs against max-parallelism", () => {
  test(`${EXECS} × sleep 1 with max-parallelism = 4: at least 25 s, at most 1.3 × 25 s`, async () => {
    const registry = await testRegistry();
    const engine = await engineWith(registry, 4);
    try {
      const ms = await burst(engine, `${registry}/busybox:latest`, `p4-${process.pid}`);
      console.log(`max-parallelism 4: ${EXECS} × sleep 1 in ${ms} ms (${(ms / 25_000).toFixed(2)} × the ideal 25 s)`);
      assert.ok(ms >= 25_000, `took ${ms} ms: fewer than 25 s means more than 4 ran at once`);
      assert.ok(ms <= 1.3 * 25_000, `took ${ms} ms, more than 1.3 × 25 s`);
    } finally {
      await engine.destroy();
    }
  });

  test(`${EXECS} × sleep 1 with max-parallelism = 100: at most 6 s`, async () => {
    const registry = await testRegistry();
    const engine = await engineWith(registry, 100);
    try {
      // The pool follows max-parallelism; it fills in the background after start.
      const deadline = Date.now() + 240_000;
      let ready = 0;
      while ((ready = (await engine.client.stats()).network?.ready ?? 0) < EXECS) {
        assert.ok(Date.now() < deadline, `only ${ready} network namespaces ready after 240 s`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const ms = await burst(engine, `${registry}/busybox:latest`, `p100-${process.pid}`);
      console.log(`max-parallelism 100: ${EXECS} × sleep 1 in ${ms} ms (goal 3 s)`);
      assert.ok(ms <= 6_000, `took ${ms} ms, more than 6 s`);
    } finally {
      await engine.destroy();
    }
  });
});
