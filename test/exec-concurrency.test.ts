/**
 * 100 distinct `sleep 1` execs at once from one SDK session, against the
 * parallelism limit (engine.toml's `[worker.oci] max-parallelism`):
 *
 * - at 4, the run takes at least the ideal 25 s (so the limit holds) and at
 *   most 1.3 × that (the goal is 1.1×): per exec, the work around the
 *   container must stay small;
 * - at 100, with the network namespace pool (which follows the limit) filled
 *   first, all of them run together: at most 6 s (the goal is 3 s).
 *
 * On a machine busy with other work every container start is slower, tanto's
 * or not: the bare limit, a sequential `runc run` of the same busybox, is
 * measured next to each burst, and the bounds grow with it when it is slow:
 * at 4, each exec may take five bare starts of wall time (its own start, its
 * mounts and unmounts, the session's round trip, all waiting for the cores
 * like everything else), each slot running 25 of them in a row; at 100, all of them share the cores, each exec costing the CPU
 * of about four bare starts (runc with Docker's seccomp profile and tini,
 * mount, umount, the namespace's recycle check). Each run's time and the
 * bare start are printed. Real engine, runc, overlayfs, CNI and the SDK.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { busyboxRootfs } from "./support/images.js";

const EXECS = 100;

/** Median wall time of a bare `runc run` of busybox `true` (the machine's container start right now). */
async function bareStartMs(): Promise<number> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "tanto-bare-"));
  try {
    await busyboxRootfs(path.join(dir, "rootfs"));
    const spec = await run(["runc", "spec", "--bundle", dir]);
    assert.equal(spec.code, 0, spec.stderr);
    const config = JSON.parse(await fs.readFile(path.join(dir, "config.json"), "utf8")) as { process: { args: string[]; terminal: boolean } };
    config.process.args = ["true"];
    config.process.terminal = false;
    await fs.writeFile(path.join(dir, "config.json"), JSON.stringify(config));
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const started = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        const c = spawn("runc", ["--root", path.join(dir, "state"), "run", "--bundle", dir, `bare-${process.pid}-${i}`], { stdio: "ignore" });
        c.on("close", resolve);
      });
      assert.equal(code, 0, "runc run of busybox true");
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[4]!;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

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
      const bare = await bareStartMs();
      const bound = Math.max(1.3 * 25_000, 25_000 + 25 * 5 * bare);
      console.log(
        `max-parallelism 4: ${EXECS} × sleep 1 in ${ms} ms (${(ms / 25_000).toFixed(2)} × the ideal 25 s); bare runc run ${bare.toFixed(0)} ms; bound ${bound.toFixed(0)} ms`,
      );
      assert.ok(ms >= 25_000, `took ${ms} ms: fewer than 25 s means more than 4 ran at once`);
      assert.ok(ms <= bound, `took ${ms} ms, more than ${bound.toFixed(0)} ms`);
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
      const bare = await bareStartMs();
      const bound = Math.max(6_000, 1_000 + (EXECS * 4 * bare) / availableParallelism());
      console.log(`max-parallelism 100: ${EXECS} × sleep 1 in ${ms} ms (goal 3 s); bare runc run ${bare.toFixed(0)} ms; bound ${bound.toFixed(0)} ms`);
      assert.ok(ms <= bound, `took ${ms} ms, more than ${bound.toFixed(0)} ms`);
    } finally {
      await engine.destroy();
    }
  });
});
