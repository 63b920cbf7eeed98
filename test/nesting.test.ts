/**
 * Privileged nesting (withExec / asService experimentalPrivilegedNesting):
 * the official SDK runs containers whose processes query the engine through
 * DAGGER_SESSION_PORT/DAGGER_SESSION_TOKEN; relays and sockets are gone
 * afterwards, also after a failed exec.
 */

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

/** socat relays started for this engine (their command line names its run directory). */
function relays(root: string): string[] {
  return execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("socat") && l.includes(root));
}

describe("privileged nesting", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let image: string;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    image = `${registry}/busybox:latest`;
    env = { ...engine.env, TANTO_TEST_IMAGE: image };
  });
  after(() => engine.destroy());

  test("a process in the container queries the engine as a nested client", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "nesting.mjs")], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    assert.match(out["env"]!, /^port=\d+ token=48\n$/);
    assert.match(out["version"]!, /^\{"data":\{"version":"[^"]+"\}\}$/);
    assert.match(out["wrongToken"]!, /401|denied/);
    assert.doesNotMatch(out["wrongToken"]!, /"version"/);
    assert.equal(out["nestedExec"], '{"data":{"container":{"from":{"withExec":{"stdout":"x\\n"}}}}}');
    const twice = JSON.parse(out["twice"]!) as { data: { container: { from: { withExec: { stdout: string } } } } };
    assert.match(twice.data.container.from.withExec.stdout, /^\{"data":\{"version":"[^"]+"\}\}$/);
    assert.equal(out["hostFile"], '{"data":{"host":{"file":{"name":"package.json"}}}}');
    assert.equal(out["plain"], "none\n", "no nesting, no session variables");
    assert.match(out["failed"]!, /exit code: 3/);
    assert.match(out["service"]!, /^\{"data":\{"version":"[^"]+"\}\}$/);
    // The service stops in the background once the session has ended.
    for (let i = 0; i < 100 && relays(engine.root).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(relays(engine.root), [], "no relay outlives its exec or service");
    assert.deepEqual(await fs.readdir(path.join(engine.root, "run", "nesting")), [], "no socket outlives its exec");
  });

  test("a cancelled nested exec leaves no relay and no socket", async () => {
    const child = spawn(CLI, ["run", "node", path.join(REPO, "test", "sdk", "nesting-hang.mjs")], { env, cwd: REPO, stdio: "ignore" });
    try {
      for (let i = 0; i < 600 && relays(engine.root).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(relays(engine.root).length, 1, "the nested exec's relay runs");
      assert.equal((await fs.readdir(path.join(engine.root, "run", "nesting"))).length, 1);
    } finally {
      child.kill("SIGTERM");
    }
    for (let i = 0; i < 150 && relays(engine.root).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(relays(engine.root), [], "the relay stopped with the cancelled exec");
    assert.deepEqual(await fs.readdir(path.join(engine.root, "run", "nesting")), []);
  });

  test("relays a crashed engine left are stopped when it starts again", async () => {
    const child = spawn(CLI, ["run", "node", path.join(REPO, "test", "sdk", "nesting-hang.mjs")], { env, cwd: REPO, stdio: "ignore" });
    try {
      for (let i = 0; i < 600 && relays(engine.root).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(relays(engine.root).length, 1, "the nested exec's relay runs");
      await engine.kill();
      assert.equal(relays(engine.root).length, 1, "a relay outlives a crashed engine");
      await engine.restart();
      assert.deepEqual(relays(engine.root), [], "the next engine stopped it");
      assert.match(engine.logs(), /stopped nesting relays left by a previous engine/);
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("after the engine stops, nothing is left", async () => {
    assert.equal(await engine.stop(), 0);
    assert.deepEqual(await leftovers(engine.root), { mounts: [], containers: [] });
    assert.deepEqual(relays(engine.root), []);
  });
});
