/**
 * Garbage collection: with a 200 MB policy and 1 GB of cached results (16 ×
 * 63 MB), usage
 * converges under the policy, the most recent results survive, and what an
 * open session is using is never removed.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as readline from "node:readline";
import { after, before, describe, test } from "node:test";
import type { UsageReport } from "../src/gc/collector.js";
import { CLI, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const MB = 1e6;

describe("garbage collection", () => {
  let engine: TestEngine;
  let image: string;

  before(async () => {
    const registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    engine = await startEngine({
      configText: `[registry."${registry}"]\nhttp = true\n[worker.oci]\ngckeepstorage = "200MB"\n`,
    });
  });
  after(() => engine.destroy());

  const bigResult = (tag: string): string =>
    `{ container { from(address: "${image}") { withExec(args: ["sh", "-c", "dd if=/dev/zero of=/big bs=1M count=60 2>/dev/null; echo ${tag}"]) { stdout } } } }`;
  const usage = async (): Promise<UsageReport> => JSON.parse((await engine.client.request("GET", "/v1/du")).body) as UsageReport;

  test("usage converges under the policy; recent results and leased inputs survive", async () => {
    // A session that holds a result while the others fill the cache.
    const holder = spawn(CLI, ["session"], { env: engine.env, stdio: ["pipe", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve) => readline.createInterface({ input: holder.stdout! }).once("line", resolve));
    const { port, session_token: token } = JSON.parse(line) as { port: number; session_token: string };
    const ask = async (doc: string): Promise<unknown> => {
      const res = await fetch(`http://127.0.0.1:${port}/query`, {
        method: "POST",
        headers: { authorization: "Basic " + Buffer.from(token + ":").toString("base64"), "content-type": "application/json" },
        body: JSON.stringify({ query: doc }),
      });
      return res.json();
    };
    try {
      assert.deepEqual(await ask(bigResult("held")), { data: { container: { from: { withExec: { stdout: "held\n" } } } } });

      for (let i = 0; i < 16; i++) {
        const r = await run([CLI, "query", bigResult(`r${i}`)], { env: engine.env });
        assert.equal(r.code, 0, r.stderr);
      }
      // The policy runs after each session ends; wait for it to settle.
      let report = await usage();
      for (let i = 0; i < 100 && report.byKind.exec > 200 * MB; i++) {
        await new Promise((r) => setTimeout(r, 200));
        report = await usage();
      }
      assert.ok(report.byKind.exec <= 200 * MB, `exec results use ${report.byKind.exec} bytes`);
      assert.ok(report.byKind.exec >= 120 * MB, "collection stopped once under the policy");

      // The held result is still there: the open session reads it without re-running.
      const before = (await engine.client.stats()).executed["exec"] ?? 0;
      const size = (await ask(
        `{ container { from(address: "${image}") { withExec(args: ["sh", "-c", "dd if=/dev/zero of=/big bs=1M count=60 2>/dev/null; echo held"]) { file(path: "/big") { size } } } } }`,
      )) as {
        data: { container: { from: { withExec: { file: { size: number } } } } };
      };
      assert.equal(size.data.container.from.withExec.file.size, 60 * 1024 * 1024);
      assert.equal((await engine.client.stats()).executed["exec"] ?? 0, before, "the held result was not collected");

      // The most recent result survived too.
      const latest = await run([CLI, "query", bigResult("r15")], { env: engine.env });
      assert.equal(latest.code, 0);
      assert.equal((await engine.client.stats()).executed["exec"] ?? 0, before, "the newest result is still cached");
    } finally {
      holder.kill("SIGTERM");
      await new Promise((r) => holder.once("exit", r));
    }
  });

  test("du reports by kind; prune --all empties what is unused", async () => {
    const du = await run([CLI, "engine", "du"], { env: engine.env });
    assert.equal(du.code, 0, du.stderr);
    assert.match(du.stdout, /exec results/);
    assert.match(du.stdout, /reclaimable/);
    const prune = await run([CLI, "engine", "prune", "--all"], { env: engine.env });
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /freed/);
    const after = await usage();
    assert.equal(after.byKind.exec, 0);
    assert.equal(after.byKind.images, 0);
  });
});
