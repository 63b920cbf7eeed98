/**
 * The solver through the official Node SDK: a second session joining an
 * in-flight exec gets its own progress and leases; a session asking right
 * after another one was killed gets the result, not a cancel error; an exec
 * binding a service that needs a built rootfs completes with
 * max-parallelism = 1; and an exec whose mounted directory equals, in
 * content, one made by another recipe is answered from the cache, also when
 * the directory and a file are copied into its rootfs instead.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "solver.mjs");

/** Sessions still running when a test ends (it failed): killed, with their programs. */
const running = new Set<number>();

/** A `tanto run` of the program (in its own process group), with its output as it comes. */
function session(env: NodeJS.ProcessEnv) {
  const child = spawn(CLI, ["run", "node", PROGRAM], { env, cwd: REPO, stdio: ["ignore", "pipe", "pipe"], detached: true });
  running.add(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => {
      running.delete(child.pid!);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    child,
    done,
    output: () => ({ stdout, stderr }),
    async waitFor(what: () => boolean, label: string, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!what()) {
        if (child.exitCode !== null) throw new Error(`session ended before ${label}: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

describe("solver through the SDK", () => {
  let engine: TestEngine;
  let registry: string;
  let env: NodeJS.ProcessEnv;
  const tag = `t${process.pid}`;

  before(async () => {
    registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest` };
  });
  afterEach(() => {
    for (const pid of running) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  after(async () => {
    await engine?.destroy();
  });

  test("a second session joining an in-flight exec gets its own progress and keeps the result through a prune", async (t) => {
    const gateDir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-gate-"));
    t.after(() => fs.rm(gateDir, { recursive: true, force: true }));
    const gate = path.join(gateDir, "go");
    const common = { ...env, TANTO_TEST_TAG: `${tag}-join`, TANTO_TEST_SLEEP: "6" };
    const before = await engine.client.stats();
    const first = session({ ...common, TANTO_TEST_MODE: "slow" });
    await first.waitFor(() => /sleep 6/.test(first.output().stderr), "the exec to start in session 1");
    const second = session({ ...common, TANTO_TEST_MODE: "gated", TANTO_TEST_GATE: gate });
    const one = await first.done;
    assert.equal(one.code, 0, one.stderr);
    await second.waitFor(() => second.output().stdout.includes('"step":1'), "session 2's first answer");
    assert.match(second.output().stderr, /exec sh -c sleep 6/, "session 2 shows the exec it joined");

    // Session 1 is gone; only session 2's leases keep the exec's snapshot.
    const prune = await run([CLI, "engine", "prune", "--all"], { env });
    assert.equal(prune.code, 0, prune.stderr);
    await fs.writeFile(gate, "");
    const two = await second.done;
    assert.equal(two.code, 0, two.stderr);
    const out = JSON.parse(two.stdout.trim().split("\n").pop()!) as { stdout: string; file: string };
    assert.equal(out.stdout, `slow-${tag}-join\n`);
    assert.equal(out.file, `slow-${tag}-join\n`);
    const after = await engine.client.stats();
    assert.equal((after.executed["exec"] ?? 0) - (before.executed["exec"] ?? 0), 1, "the exec ran once for both sessions, and not again after the prune");
  });

  test("the session that started an exec is killed: a second session waiting on it still gets the result", async () => {
    const common = { ...env, TANTO_TEST_TAG: `${tag}-outlive`, TANTO_TEST_SLEEP: "10", TANTO_TEST_MODE: "slow" };
    const before = await engine.client.stats();
    const first = session(common);
    await first.waitFor(() => /sleep 10/.test(first.output().stderr), "the exec to start in session 1");
    const second = session(common);
    await second.waitFor(() => /sleep 10/.test(second.output().stderr), "session 2 to join the exec");
    process.kill(-first.child.pid!, "SIGKILL");
    await first.done;
    const r = await second.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { stdout: string }).stdout, `slow-${tag}-outlive\n`);
    const after = await engine.client.stats();
    assert.equal((after.executed["exec"] ?? 0) - (before.executed["exec"] ?? 0), 1, "the exec was not started again");
  });

  test("the exec a killed session started keeps the service it bound for a second session waiting on it", async () => {
    const common = { ...env, TANTO_TEST_TAG: `${tag}-orphan`, TANTO_TEST_MODE: "waiting" };
    const before = await engine.client.stats();
    const started = (o: { stderr: string }): boolean => /exec sh -c wget -qO- http:\/\/late\//.test(o.stderr);
    const first = session(common);
    await first.waitFor(() => started(first.output()), "the exec to start in session 1");
    const second = session(common);
    await second.waitFor(() => started(second.output()), "session 2 to join the exec");
    process.kill(-first.child.pid!, "SIGKILL");
    await first.done;
    const r = await second.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { stdout: string }).stdout, `up\nafter-${tag}-orphan\n`);
    const after = await engine.client.stats();
    assert.equal((after.executed["exec"] ?? 0) - (before.executed["exec"] ?? 0), 1, "the exec was not started again");
  });

  test("a session asking right after another was killed mid-exec gets the result, not a cancel error", async () => {
    // The exec waits for a slow service, so its cancelled solve takes seconds to wind down.
    const common = { ...env, TANTO_TEST_TAG: `${tag}-cancel`, TANTO_TEST_MODE: "waiting" };
    const sessionsBefore = (await engine.client.stats()).sessions;
    const first = session(common);
    await first.waitFor(() => /exec sh -c wget -qO- http:\/\/late\//.test(first.output().stderr), "the exec to start in session 1");
    // The session and the program it runs, as a terminal's ^C would reach them.
    process.kill(-first.child.pid!, "SIGKILL");
    await first.done;
    // Once the engine has seen session 1 go (and so cancelled its work), ask again at once.
    const deadline = Date.now() + 10_000;
    while ((await engine.client.stats()).sessions > sessionsBefore) {
      assert.ok(Date.now() < deadline, "the engine noticed session 1 ending");
      await new Promise((r) => setTimeout(r, 10));
    }
    const second = session(common);
    const r = await second.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { stdout: string }).stdout, `up\nafter-${tag}-cancel\n`);
  });

  test("content-equal inputs made by different recipes: the exec runs once", async () => {
    const before = await engine.client.stats();
    const r = await run([CLI, "run", "node", PROGRAM], { env: { ...env, TANTO_TEST_TAG: `${tag}-content`, TANTO_TEST_MODE: "content" } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ids: string[]; one: string; two: string };
    assert.notEqual(out.ids[0], out.ids[1], "the two directories have different recipes");
    assert.equal(out.one, `same-${tag}-content\nb\n`);
    assert.equal(out.two, out.one);
    const after = await engine.client.stats();
    assert.equal((after.executed["exec"] ?? 0) - (before.executed["exec"] ?? 0), 1, "one exec ran");
    assert.ok((after.contentHits ?? 0) > (before.contentHits ?? 0), "answered by content key");
  });

  test("content-equal directories and files copied in (withDirectory, withFile): the exec runs once", async () => {
    const before = await engine.client.stats();
    const r = await run([CLI, "run", "node", PROGRAM], { env: { ...env, TANTO_TEST_TAG: `${tag}-copied`, TANTO_TEST_MODE: "copied" } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ids: string[]; one: string; two: string };
    assert.notEqual(out.ids[0], out.ids[1], "the two directories have different recipes");
    assert.equal(out.one, `same-${tag}-copied\nb\nsame-${tag}-copied\n`);
    assert.equal(out.two, out.one);
    const after = await engine.client.stats();
    assert.equal((after.executed["exec"] ?? 0) - (before.executed["exec"] ?? 0), 1, "one exec ran");
    // withDirectory and withFile by their sources' content, the exec by its rootfs's result.
    assert.ok((after.contentHits ?? 0) - (before.contentHits ?? 0) >= 3, `hits after a recipe miss: ${(after.contentHits ?? 0) - (before.contentHits ?? 0)}`);
  });

  test("max-parallelism = 1: an exec binding a service whose rootfs must be built completes", async () => {
    const single = await startEngine({
      registry,
      configText: `[registry."docker.io"]\nmirrors = ["${registry}"]\n[registry."${registry}"]\nhttp = true\n[worker.oci]\nmax-parallelism = 1\n`,
    });
    try {
      const r = await run([CLI, "run", "node", PROGRAM], {
        env: { ...single.env, TANTO_TEST_IMAGE: env["TANTO_TEST_IMAGE"], TANTO_TEST_TAG: `${tag}-svc`, TANTO_TEST_MODE: "service" },
        timeoutMs: 90_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { stdout: string }).stdout, `served-${tag}-svc\n`);
    } finally {
      await single.destroy();
    }
  });
});
