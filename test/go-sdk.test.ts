/**
 * The official Go SDK (dagger.io/dagger, pinned in test/fixtures/go-sdk/go.mod)
 * against a real engine: the smoke program is built with the host's Go
 * toolchain, then each of its cases runs as its own `tanto run ./binary CASE`.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { gitAuthCase, unixSocketCase } from "./support/client-servers.js";
import { startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { buildGoProgram, runCase } from "./support/sdks.js";

const TIMEOUT = 180_000;
const EXEC_OUT = { stdout: "hello go\n", stderr: "err\n", exitCode: 0 };

describe("official Go SDK", { timeout: 20 * 60_000 }, () => {
  let engine: TestEngine;
  let dir: string;
  let hostDir: string;
  let binary: string;
  const go = (args: string[], env: Record<string, string> = {}) => runCase([binary, ...args], { ...engine.env, ...env }, { timeoutMs: TIMEOUT });

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-gosdk-"));
    hostDir = path.join(dir, "host");
    await fs.mkdir(path.join(hostDir, "nested"), { recursive: true });
    await fs.writeFile(path.join(hostDir, "greeting.txt"), "hi from the host\n");
    const built = await buildGoProgram(dir);
    binary = built.binary;
    console.log(`go build: ${built.ms} ms`);
    engine = await startEngine({ registry: await testRegistry() });
  });
  after(async () => {
    await engine?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test("withExec on busybox (docker.io mirror): stdout, stderr, exit code", { timeout: TIMEOUT }, async () => {
    const { out } = await go(["exec"]);
    assert.deepEqual(out, EXEC_OUT);
  });

  test("files: withNewFile, contents, directory entries, a host directory", { timeout: TIMEOUT }, async () => {
    const { out } = await go(["files", hostDir]);
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

  test("secrets: setSecret as a variable, masked in stdout", { timeout: TIMEOUT }, async () => {
    const value = `s3cr3t-${Math.random().toString(36).slice(2, 10)}`;
    const { out, stderr } = await go(["secrets", value]);
    assert.deepEqual(out, { stdout: `token=***\n${value.length}\n`, name: "go-token", plaintextMatches: true });
    assert.ok(!stderr.includes(value), "the secret never shows in the session's progress");
  });

  test("services: a busybox httpd bound by alias, reached with wget", { timeout: TIMEOUT }, async () => {
    const { out } = await go(["services"]);
    assert.equal(out["got"], "hello from go web\n");
    assert.match(String(out["endpoint"]), /^http:\/\/svc-[0-9a-f]{12}:80$/);
  });

  test("IDs: an object's id loaded back, a Directory from one query used in another, sync", { timeout: TIMEOUT }, async () => {
    const { out } = await go(["ids"]);
    assert.deepEqual(out, { idIsString: true, loaded: "by id\n", used: "carried", synced: "synced\n" });
  });

  test("a failed exec is a *dagger.ExecError with exit code, output and command", { timeout: TIMEOUT }, async () => {
    const { out } = await go(["exec-error"]);
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

  test("directory and file helpers, changesets, env files, JSON", { timeout: TIMEOUT }, async () => {
    const { out } = await go(["helpers"]);
    assert.deepEqual(out, {
      replaced: "1 two 1\n",
      replaceError: true,
      patched: "patched\n",
      modified: ["a.txt"],
      removed: ["src/b.txt"],
      search: ["src/b.txt"],
      env: "1|x 1\n",
      json: "[1,2]",
    });
  });

  test("typed arguments: enums, an input object (BuildArg), lists of objects", { timeout: TIMEOUT }, async () => {
    const { out } = await go(["typed-args"]);
    assert.deepEqual(out, {
      expectAny: 3,
      built: "built for go\n",
      ports: [[5353, "UDP", "dns"]],
      env: [["A", "1"]],
      cache: "x\n",
    });
  });

  test("git auth: HTTP Basic with a token secret (git http-backend), ssh with the client's agent socket", { timeout: TIMEOUT }, async () => {
    await gitAuthCase((env) => go(["git-auth"], env));
  });

  test("unix socket: Host.unixSocket in a container (withUnixSocket/withoutUnixSocket), the docker CLI there as its client", { timeout: TIMEOUT }, async () => {
    await unixSocketCase((env) => go(["unix-socket"], env));
  });

  test("the SDK starts `tanto session` itself (_EXPERIMENTAL_DAGGER_CLI_BIN)", { timeout: TIMEOUT }, async () => {
    const { out } = await runCase([binary, "exec"], engine.env, { timeoutMs: TIMEOUT, sdkStartsSession: true });
    assert.deepEqual(out, EXEC_OUT);
  });
});
