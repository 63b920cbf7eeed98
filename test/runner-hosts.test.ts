/**
 * The docker-container:// transport without Docker: TANTO_DOCKER points the
 * CLI at a stand-in for `docker exec -i NAME tanto dial-stdio` that runs the
 * real `tanto dial-stdio` against a test engine and logs each invocation.
 * So this checks the client side (one child per HTTP connection, kept alive)
 * and dial-stdio; test/engine-image.test.ts does the same through Docker.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "engine-image.mjs");

describe("docker-container:// runner host (Docker stood in for)", () => {
  let engine: TestEngine;
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    engine = await startEngine({ registry: await testRegistry() });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-runner-hosts-"));
    log = path.join(dir, "docker.log");
    const fake = path.join(dir, "docker");
    await fs.writeFile(
      fake,
      [
        "#!/bin/sh",
        `echo "$*" >> '${log}'`,
        'if [ "$3" != engine ]; then echo "Error response from daemon: No such container: $3" >&2; exit 1; fi',
        `exec '${process.execPath}' '${path.join(REPO, "dist/src/cli/main.js")}' dial-stdio --addr 'unix://${engine.socket}'`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    env = { ...process.env, TANTO_DOCKER: fake, _EXPERIMENTAL_DAGGER_RUNNER_HOST: "docker-container://engine" };
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("the SDK runs a pipeline over dial-stdio connections; files in and exports out travel over the session", async () => {
    const src = path.join(dir, "src");
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, "greeting.txt"), "hello over stdio\n");
    const res = await run([CLI, "run", "node", PROGRAM, src, path.join(dir, "out.txt")], { env, cwd: dir, timeoutMs: 180_000 });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { stdout: string }).stdout, "hello over stdio\nLinux\n");
    assert.equal(await fs.readFile(path.join(dir, "out.txt"), "utf8"), "made in the engine image\n");
    const calls = (await fs.readFile(log, "utf8")).trim().split("\n");
    assert.ok(
      calls.every((c) => c === "exec -i engine tanto dial-stdio"),
      calls.join("\n"),
    );
    // Kept alive: a session makes dozens of requests over a handful of connections.
    assert.ok(calls.length <= 12, `${calls.length} connections`);
  });

  test("tanto version names the engine; a missing container is reported as such", async () => {
    const ok = await run([CLI, "version"], { env });
    assert.match(ok.stdout, /^engine \S+ at docker-container:\/\/engine$/m);
    const missing = await run([CLI, "query", "{ version }"], { env: { ...env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: "docker-container://gone" } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no engine answers at docker-container:\/\/gone: .*No such container: gone/);
  });

  test("invalid docker runner hosts are refused with the value named", async () => {
    const res = await run([CLI, "query", "{ version }"], { env: { ...env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: "docker-container://bad name" } });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /invalid runner host "docker-container:\/\/bad name"/);
  });
});
