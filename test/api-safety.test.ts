/**
 * API safety: tokens on every endpoint, limits on what a request may ask,
 * and an engine that keeps serving through malformed and fuzzed queries and
 * many concurrent sessions.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as readline from "node:readline";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { freePort } from "./support/ports.js";
import { seededRandom } from "./support/random.js";

function fuzzedQueries(count: number, image: string): string[] {
  const rnd = seededRandom(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const valid = [
    `{ container { from(address: "${image}") { withExec(args: ["true"]) { stdout } } } }`,
    `{ directory { withNewFile(path: "a", contents: "b") { entries } } }`,
    `{ cacheVolume(key: "k") { id } }`,
    `{ container { withEnvVariable(name: "A", value: "b") { envVariable(name: "A") } } }`,
  ];
  const junk = ["{", "}", "(", ")", '"', ":", "$", "@", "...", "\\u0000", "🙂", "#", "!", "[", "]", "=", "\n"];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = pick(valid);
    switch (i % 8) {
      case 0: // truncated
        out.push(base.slice(0, Math.floor(rnd() * base.length)));
        break;
      case 1: // junk inserted
        {
          const at = Math.floor(rnd() * base.length);
          out.push(base.slice(0, at) + pick(junk) + base.slice(at));
        }
        break;
      case 2: // unknown fields and arguments
        out.push(base.replace("withExec", pick(["withExecc", "nope", "__typename2"])).replace("path", pick(["paht", "x", "path2"])));
        break;
      case 3: // wrong argument types
        out.push(base.replace(/"[^"]*"/, pick(["42", "true", "null", "[1]", "{a: 1}"])));
        break;
      case 4: // forged, truncated and foreign IDs
        out.push(
          `{ loadContainerFromID(id: "${pick(["", "x", "tanto1.", "tanto1.e30", "tanto1.eyJ0IjoiRmlsZSJ9", "tanto1." + "A".repeat(200)])}") { stdout } }`,
        );
        break;
      case 5: // no selection on an object, or a selection on a scalar
        out.push(pick(["{ container }", "{ version { x } }", '{ container { from(address: "x") } }']));
        break;
      case 6: // random bytes
        out.push(Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => String.fromCharCode(Math.floor(rnd() * 0x7f))).join(""));
        break;
      default: // bad image references and paths
        out.push(`{ container { from(address: "${pick(["UPPER/case", "::", "a@sha256:zz", "127.0.0.1:1/none:1"])}") { id } } }`);
    }
  }
  return out;
}

describe("API safety", () => {
  let engine: TestEngine;
  let image: string;
  let tcpPort: number;
  const token = "test-token-" + process.pid;

  before(async () => {
    const registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    tcpPort = await freePort();
    engine = await startEngine({ registry, extraArgs: ["--addr", `tcp://127.0.0.1:${tcpPort}`], env: { ...process.env, TANTO_ENGINE_TOKEN: token } });
  });
  after(() => engine.destroy());

  test("the unix socket is 0660 and owned by root", async () => {
    const st = await fs.stat(engine.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
  });

  test("TCP requires the engine token", async () => {
    const bare = await fetch(`http://127.0.0.1:${tcpPort}/v1/health`);
    assert.equal(bare.status, 401);
    const wrong = await fetch(`http://127.0.0.1:${tcpPort}/v1/health`, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    const env = { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `tcp://127.0.0.1:${tcpPort}`, TANTO_ENGINE_TOKEN: token };
    const ok = await run([CLI, "query", "{ version }"], { env });
    assert.equal(ok.code, 0, ok.stderr);
    const denied = await run([CLI, "query", "{ version }"], { env: { ...env, TANTO_ENGINE_TOKEN: "wrong" } });
    assert.equal(denied.code, 1);
  });

  test("1000 malformed or fuzzed queries each get a clear error, and the engine keeps serving", async () => {
    const child = spawn(CLI, ["session"], { env: engine.env, stdio: ["pipe", "pipe", "ignore"] });
    const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once("line", resolve));
    const { port, session_token: sessionToken } = JSON.parse(line) as { port: number; session_token: string };
    const auth = "Basic " + Buffer.from(sessionToken + ":").toString("base64");
    try {
      const queries = fuzzedQueries(1000, image);
      for (let i = 0; i < queries.length; i += 20) {
        await Promise.all(
          queries.slice(i, i + 20).map(async (q, j) => {
            const res = await fetch(`http://127.0.0.1:${port}/query`, {
              method: "POST",
              headers: { authorization: auth, "content-type": "application/json" },
              body: JSON.stringify({ query: q }),
            });
            assert.equal(res.status, 200, `query ${i + j}`);
            const body = (await res.json()) as { data?: unknown; errors?: Array<{ message: unknown }> };
            if (body.errors) {
              assert.ok(body.errors.length > 0);
              for (const e of body.errors) assert.ok(typeof e.message === "string" && e.message.length > 0, `query ${i + j}: ${JSON.stringify(q)}`);
            }
          }),
        );
      }
      const deep = "{ container " + '{ withEnvVariable(name: "a", value: "b") '.repeat(2500) + "{ id }" + " }".repeat(2501);
      const tooDeep = await fetch(`http://127.0.0.1:${port}/query`, {
        method: "POST",
        headers: { authorization: auth },
        body: JSON.stringify({ query: deep }),
      });
      assert.match(JSON.stringify(await tooDeep.json()), /nested more than 1000 levels/);
      const alive = await fetch(`http://127.0.0.1:${port}/query`, {
        method: "POST",
        headers: { authorization: auth },
        body: JSON.stringify({ query: "{ version }" }),
      });
      assert.deepEqual(await alive.json(), { data: { version: "0.1.0" } });
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });

  test("20 concurrent sessions × 10 operations: no errors", async () => {
    const program = path.join(REPO, "test", "sdk", "many-execs.mjs");
    const env = { ...engine.env, TANTO_TEST_IMAGE: image, TANTO_TEST_EXECS: "10" };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => run([CLI, "run", "node", program], { env: { ...env, TANTO_TEST_TAG: `c${i}` }, timeoutMs: 300_000 })),
    );
    results.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        JSON.parse(r.stdout),
        Array.from({ length: 10 }, (_, j) => `c${i}-${j}`),
      );
    });
  });
});
