/**
 * kill -9 of a client mid-pipeline, ten times: its containers are stopped
 * within a few seconds, nothing is left mounted, and the engine keeps
 * answering other sessions.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { seededRandom } from "./support/random.js";

describe("client kills", () => {
  let engine: TestEngine;
  let image: string;
  const seed = Number(process.env["TANTO_CHAOS_SEED"] ?? Date.now() % 100_000);

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    engine = await startEngine();
  });
  after(() => engine.destroy());

  test(`10 clients killed with -9 mid-exec leave nothing running (seed ${seed})`, async () => {
    const rnd = seededRandom(seed);
    let leaked = 0;
    let slowestMs = 0;
    for (let i = 0; i < 10; i++) {
      const q = `{ container { from(address: "${image}") { withEnvVariable(name: "I", value: "${seed}-${i}") { withExec(args: ["sh", "-c", "sleep 60"]) { stdout } } } } }`;
      const client = spawn(CLI, ["query", q], { env: engine.env, stdio: "ignore" });
      // Until its container runs (or a random moment before), then the client dies.
      const deadline = Date.now() + 15_000;
      const until = Date.now() + 500 + Math.floor(rnd() * 2_000);
      while (Date.now() < until || ((await leftovers(engine.root)).containers.length === 0 && Date.now() < deadline)) {
        await new Promise((r) => setTimeout(r, 50));
      }
      client.kill("SIGKILL");
      const killed = Date.now();
      let left = await leftovers(engine.root);
      while ((left.containers.length > 0 || left.mounts.length > 0) && Date.now() - killed < 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        left = await leftovers(engine.root);
      }
      slowestMs = Math.max(slowestMs, Date.now() - killed);
      leaked += left.containers.length + left.mounts.length;
    }
    const ok = await run([CLI, "query", "{ version }"], { env: engine.env });
    console.log(`client kills: 10 kills, ${leaked} containers/mounts leaked, slowest cleanup ${slowestMs} ms`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(leaked, 0);
    assert.ok(slowestMs < 10_000);
  });
});
