/**
 * The official Python SDK (dagger-io, from PyPI, in the venv scripts/install.sh
 * makes) against a real engine: each case of test/fixtures/python/smoke.py runs
 * as its own `tanto run python smoke.py CASE`, so one failing case names itself.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { gitAuthCase, unixSocketCase } from "./support/client-servers.js";
import { REPO, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { pythonSdk, runCase } from "./support/sdks.js";

const SMOKE = path.join(REPO, "test", "fixtures", "python", "smoke.py");
const TIMEOUT = 180_000;
const EXEC_OUT = { stdout: "hello python\n", stderr: "err\n", exitCode: 0, legacy: "legacy\n" };

describe("official Python SDK", { timeout: 15 * 60_000 }, () => {
  let engine: TestEngine;
  let python: string;
  let hostDir: string;
  const py = (args: string[], env: Record<string, string> = {}) => runCase([python, SMOKE, ...args], { ...engine.env, ...env }, { timeoutMs: TIMEOUT });

  before(async () => {
    python = await pythonSdk();
    engine = await startEngine({ registry: await testRegistry() });
    hostDir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-pysdk-"));
    await fs.writeFile(path.join(hostDir, "greeting.txt"), "hi from the host\n");
    await fs.mkdir(path.join(hostDir, "nested"));
  });
  after(async () => {
    await engine?.destroy();
    if (hostDir) await fs.rm(hostDir, { recursive: true, force: true });
  });

  test("withExec on busybox (docker.io mirror): stdout, stderr, exit code; legacy Connection", { timeout: TIMEOUT }, async () => {
    const { out } = await py(["exec"]);
    assert.deepEqual(out, EXEC_OUT);
  });

  test("files: withNewFile, contents, directory entries, a host directory", { timeout: TIMEOUT }, async () => {
    const { out } = await py(["files", hostDir]);
    assert.deepEqual(out, {
      contents: "alpha\n",
      catted: "alpha\n",
      entries: ["sub/", "x.txt"],
      subEntries: ["y.txt"],
      hostEntries: ["greeting.txt", "nested/"],
      hostFile: "hi from the host\n",
      mounted: "hi from the host\n",
    });
  });

  test("directory and file helpers, changesets, JSON and env files", { timeout: TIMEOUT }, async () => {
    const { out } = await py(["helpers"]);
    assert.deepEqual(out, {
      replaced: "1 two 1\n",
      replaceError: "QueryError",
      patched: "patched\n",
      modified: ["a.txt"],
      removed: ["src/b.txt"],
      search: [["src/b.txt", 1]],
      filtered: ["src/", "src/b.txt"],
      json: "[1,2]",
      env: "1|x 1\n",
      envGet: "x 1",
    });
  });

  test("secrets: setSecret as a variable, masked in stdout", { timeout: TIMEOUT }, async () => {
    const value = `s3cr3t-${Math.random().toString(36).slice(2, 10)}`;
    const { out, stderr } = await py(["secrets", value]);
    assert.deepEqual(out, { stdout: `token=***\n${value.length}\n`, name: "py-token", plaintextMatches: true });
    assert.ok(!stderr.includes(value), "the secret never shows in the session's progress");
  });

  test("services: a busybox httpd bound by alias, reached with wget", { timeout: TIMEOUT }, async () => {
    const { out } = await py(["services"]);
    assert.equal(out["got"], "hello from python web\n");
    assert.match(String(out["endpoint"]), /^http:\/\/svc-[0-9a-f]{12}:80$/);
  });

  test("IDs: an object's id loaded back, a Directory from one query used in another, sync", { timeout: TIMEOUT }, async () => {
    const { out } = await py(["ids"]);
    assert.deepEqual(out, { idIsString: true, loaded: "by id\n", used: "carried", synced: "synced\n" });
  });

  test("a failed exec is a dagger.ExecError with exit code, output and command", { timeout: TIMEOUT }, async () => {
    const { out } = await py(["exec-error"]);
    assert.deepEqual(out, {
      caught: "ExecError",
      exitCode: 5,
      // Trimmed, as Dagger trims an exec error's output.
      stdout: "out",
      stderr: "oops",
      command: ["sh", "-c", "echo out; echo oops >&2; exit 5"],
      message: `process "sh -c echo out; echo oops >&2; exit 5" did not complete successfully: exit code: 5`,
    });
  });

  test("typed arguments: enums, an input object (BuildArg), lists of objects", { timeout: TIMEOUT }, async () => {
    const { out } = await py(["typed-args"]);
    assert.deepEqual(out, {
      expectAny: 3,
      built: "built for python\n",
      ports: [[5353, "UDP", "dns"]],
      env: [["A", "1"]],
      cache: "x\n",
    });
  });

  test("git auth: HTTP Basic with a token secret (git http-backend), ssh with the client's agent socket", { timeout: TIMEOUT }, async () => {
    await gitAuthCase((env) => py(["git-auth"], env));
  });

  test("unix socket: Host.unixSocket in a container (withUnixSocket/withoutUnixSocket), the docker CLI there as its client", { timeout: TIMEOUT }, async () => {
    await unixSocketCase((env) => py(["unix-socket"], env));
  });

  test("the SDK starts `tanto session` itself (_EXPERIMENTAL_DAGGER_CLI_BIN)", { timeout: TIMEOUT }, async () => {
    const { out } = await runCase([python, SMOKE, "exec"], engine.env, { timeoutMs: TIMEOUT, sdkStartsSession: true });
    assert.deepEqual(out, EXEC_OUT);
  });
});
