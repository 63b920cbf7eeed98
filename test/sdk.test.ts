/**
 * The official Dagger SDK (@dagger.io/dagger) against a real engine: both
 * ways of finding it, caching across runs and restarts, exec errors, and
 * concurrent sessions. Nothing is mocked: real registry, overlayfs and runc.
 */

import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PIPELINE = path.join(REPO, "examples", "pipeline.mjs");
const sdkProgram = (name: string): string => path.join(REPO, "test", "sdk", name);

describe("official Node SDK", () => {
  let engine: TestEngine;
  let image: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_SAMPLE_IMAGE: image, TANTO_TEST_IMAGE: image };
  });
  after(async () => {
    await engine.destroy();
  });

  test("tanto run: the sample pipeline prints hello world", async () => {
    const r = await run([CLI, "run", "node", PIPELINE], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello world");
    assert.match(r.stderr, /exec sh -c echo hello \$NAME/, "progress names the operation");
  });

  test("SDK-spawned session: cached on the second run, no container started", async () => {
    const before = await engine.client.stats();
    const r = await run(["node", PIPELINE], { env: { ...env, _EXPERIMENTAL_DAGGER_CLI_BIN: CLI } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello world");
    const afterRun = await engine.client.stats();
    assert.equal(afterRun.executed["exec"] ?? 0, before.executed["exec"] ?? 0, "no exec ran");
    assert.ok(afterRun.cacheHits > before.cacheHits, "answered from the cache");
  });

  test("still cached after an engine restart", async () => {
    await engine.restart();
    const r = await run([CLI, "run", "node", PIPELINE], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello world");
    const stats = await engine.client.stats();
    assert.equal(stats.executed["exec"] ?? 0, 0, "the restarted engine ran no exec");
    assert.ok(stats.cacheHits > 0);
  });

  test("exec errors: ExecError with exit code, output and command; expect ANY", async () => {
    const r = await run([CLI, "run", "node", sdkProgram("exec-error.mjs")], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(report["isExecError"], true);
    assert.equal(report["exitCode"], 1);
    assert.deepEqual(report["cmd"], ["false"]);
    assert.equal(report["stdout"], "out", "trimmed as Dagger trims it");
    assert.equal(report["stderr"], "oops");
    assert.match(String(report["message"]), /did not complete successfully: exit code: 4/);
    assert.equal(report["missingExitCode"], 127);
    assert.match(String(report["missingStderr"]), /nope-not-here/);
    assert.equal(report["anyExitCode"], 3);
  });

  test("container API tour", async () => {
    const r = await run([CLI, "run", "node", sdkProgram("features.mjs")], { env: { ...env, TANTO_TEST_RUN: "1" } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out["cache"], "run1\n");
    assert.equal(out["stdout"], "65534\n/work\nhi there\n");
    assert.equal(out["stderr"], "err\n");
    assert.equal(out["exitCode"], 0);
    assert.equal(out["workdir"], "/work");
    assert.equal(out["user"], "nobody");
    assert.equal(out["env"], "bar");
    assert.ok((out["envNames"] as string[]).includes("FOO"));
    assert.ok((out["envNames"] as string[]).includes("PATH"));
    assert.equal(out["fileContents"], "hi there\n");
    assert.equal(out["fileSize"], 9);
    assert.deepEqual(out["entries"], ["hello.txt"]);
    assert.ok((out["glob"] as string[]).includes("etc/passwd"));
    assert.equal(out["written"], "made\n");
    assert.equal(out["redirect"], "to-file\n");
    assert.equal(out["combined"], "a\nb\n", "stdout and stderr in order of arrival");
    assert.equal(out["temp"], "1\n");
    assert.deepEqual(out["mounts"], ["/scratch"]);
    assert.equal(out["labels"], "2");
    assert.match(String(out["platform"]), /^linux\//);
    assert.equal(out["entrypoint"], "via-entrypoint\n");
    assert.equal(out["fromId"], "65534\n/work\nhi there\n");

    // The cache volume keeps its contents across sessions.
    const again = await run([CLI, "run", "node", sdkProgram("features.mjs")], { env: { ...env, TANTO_TEST_RUN: "2" } });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as Record<string, unknown>)["cache"], "run1\nrun2\n");
  });

  test("8 concurrent sessions × 5 execs all succeed, and nothing is left behind", async () => {
    const sessions = Array.from({ length: 8 }, (_, i) =>
      run([CLI, "run", "node", sdkProgram("many-execs.mjs")], { env: { ...env, TANTO_TEST_TAG: `s${i}`, TANTO_TEST_EXECS: "5" } }),
    );
    const results = await Promise.all(sessions);
    results.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        JSON.parse(r.stdout),
        [0, 1, 2, 3, 4].map((j) => `s${i}-${j}`),
      );
    });
    assert.equal(await engine.stop(), 0, "engine exits 0 on SIGTERM");
    assert.deepEqual(await leftovers(engine.root), { mounts: [], containers: [] });
    await engine.restart();
  });
});
