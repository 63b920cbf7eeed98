/**
 * Progress views of one pipeline (test/sdk/progress.mjs: a cached step, a
 * slow step printing as it goes, a failing step): the plain lines for CI
 * logs, and the live tree in a real terminal (tmux: the pane is captured
 * while the slow step runs and after the end).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "progress.mjs");

function tmux(...args: string[]): string {
  return execFileSync("tmux", args, { encoding: "utf8" });
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("progress views", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest` };
  });
  after(async () => {
    await engine.destroy();
  });

  test("plain: one #N line per event, output lines, CACHED, DONE, ERROR and a summary", async () => {
    const r = await run([CLI, "run", "--progress=plain", "node", PROGRAM], { env: { ...env, TANTO_TEST_NONCE: `plain-${Date.now()}` } });
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stderr.split("\n");
    const num = (re: RegExp): string => {
      const l = lines.find((x) => re.test(x));
      assert.ok(l, `no line matching ${re} in:\n${r.stderr}`);
      return /^#(\d+) /.exec(l)![1]!;
    };
    // The first echo runs, the second is answered from the cache.
    const echo = lines.filter((l) => /^#\d+ exec echo cached-step$/.test(l)).map((l) => /^#(\d+)/.exec(l)![1]);
    assert.equal(echo.length, 2, r.stderr);
    assert.ok(lines.includes(`#${echo[1]} CACHED`), r.stderr);
    // Each event once.
    for (let i = 1; i < lines.length; i++) if (/ (DONE|CACHED|ERROR)/.test(lines[i]!)) assert.notEqual(lines[i], lines[i - 1], r.stderr);
    assert.ok(
      lines.some((l) => new RegExp(`^#${echo[0]} DONE \\d+\\.\\ds$`).test(l)),
      r.stderr,
    );
    // The image's layers were pulled (a fresh engine): a pull span per layer, with its size, under the from op.
    const pull = num(/^#\d+ pull sha256:[0-9a-f]{12} \(\d+ bytes\)$/);
    assert.ok(
      lines.some((l) => new RegExp(`^#${pull} DONE \\d+\\.\\ds$`).test(l)),
      r.stderr,
    );
    assert.ok(Number(num(/^#\d+ from .*busybox:latest$/)) < Number(pull), r.stderr);
    // The API call is printed before the op under it.
    const call = num(/^#\d+ container\.from\(address: ".*busybox:latest"\)\.withExec\(args: \["echo", "cached-step"\]\)\.sync$/);
    assert.ok(Number(call) < Number(echo[0]), r.stderr);
    const slow = num(/^#\d+ exec sh -c for i in/);
    for (let i = 1; i <= 8; i++)
      assert.ok(
        lines.some((l) => new RegExp(`^#${slow} \\d+\\.\\d{3} tick-${i}$`).test(l)),
        `tick-${i}:\n${r.stderr}`,
      );
    const boom = num(/^#\d+ exec sh -c echo boom-out/);
    assert.ok(
      lines.some((l) => new RegExp(`^#${boom} \\d+\\.\\d{3} boom-out$`).test(l)),
      r.stderr,
    );
    assert.ok(
      lines.some((l) => new RegExp(`^#${boom} \\d+\\.\\d{3} boom-err$`).test(l)),
      r.stderr,
    );
    assert.ok(
      lines.some((l) => new RegExp(`^#${boom} ERROR \\d+\\.\\ds: .*exit code: 3`).test(l)),
      r.stderr,
    );
    assert.match(r.stderr, /^✘ \d+ run, \d+ cached, 1 failed in \d+\.\ds$/m);

    // Timestamps on request; dots.
    const stamped = await run([CLI, "--timestamps", "run", "--progress=plain", "node", PROGRAM], { env: { ...env, TANTO_TEST_NONCE: `ts-${Date.now()}` } });
    assert.match(stamped.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z #\d+ exec echo cached-step$/m);
    const dots = await run([CLI, "run", "--progress=dots", "node", PROGRAM], { env: { ...env, TANTO_TEST_NONCE: `dots-${Date.now()}` } });
    assert.match(dots.stderr, /^\.+x\.*\n✘ exec sh -c echo boom-out/m);
    // Not a terminal: auto (and tty) fall back to plain.
    const auto = await run([CLI, "run", "--progress=tty", "node", PROGRAM], { env });
    assert.match(auto.stderr, /^#\d+ CACHED$/m);
  });

  test("two sessions waiting on one solve each see its spans under their own call", async () => {
    const nonce = `shared-${Date.now()}`;
    const doc = `{ container { from(address: "${env["TANTO_TEST_IMAGE"]}") { withEnvVariable(name: "N", value: "${nonce}") { withExec(args: ["sh", "-c", "sleep 1.5; echo shared-out"]) { stdout } } } } }`;
    const before = (await engine.client.stats()).executed["exec"] ?? 0;
    const [a, b] = await Promise.all([
      run([CLI, "query", "--progress=plain"], { env, input: doc }),
      new Promise((r) => setTimeout(r, 400)).then(() => run([CLI, "query", "--progress=plain"], { env, input: doc })),
    ]);
    assert.equal((await engine.client.stats()).executed["exec"], before + 1, "one exec for both");
    for (const r of [a, b]) {
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.split("\n");
      const call = lines.find((l) => /^#\d+ container\.from/.test(l));
      const op = lines.find((l) => /^#\d+ exec sh -c sleep 1\.5; echo shared-out$/.test(l));
      assert.ok(call && op, r.stderr);
      const n = /^#(\d+)/.exec(op)![1];
      assert.ok(Number(/^#(\d+)/.exec(call)![1]) < Number(n), r.stderr);
      assert.ok(
        lines.some((l) => new RegExp(`^#${n} DONE \\d+\\.\\ds$`).test(l)),
        r.stderr,
      );
    }
  });

  test("tty: a live tree in tmux with a running step's output, CACHED rows, the failed step's output kept", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-progress-"));
    const name = `tanto-progress-${process.pid}`;
    const script = path.join(dir, "run.sh");
    const exports = Object.entries({ ...env, TANTO_TEST_NONCE: `tty-${Date.now()}`, TERM: "xterm-256color" })
      .filter(([k]) => /^(PATH|HOME|TANTO_|_EXPERIMENTAL_DAGGER|TERM$)/.test(k))
      .map(([k, v]) => `export ${k}='${String(v).replaceAll("'", "'\\''")}'`)
      .join("\n");
    await fs.writeFile(script, `${exports}\ncd '${REPO}'\n'${CLI}' run node '${PROGRAM}'\necho "EXIT=$?"\nsleep 600\n`);
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", `sh ${script}`);
    try {
      const pane = (): string => tmux("capture-pane", "-p", "-t", name);
      // While the slow step runs: a spinner row with its elapsed time and the tail of its output.
      const running = await until("the running step", () => {
        const p = pane();
        return /tick-3/.test(p) ? p : undefined;
      });
      assert.match(running, /^\s*[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] exec sh -c for i in .* \d+\.\ds$/m, running);
      assert.match(running, /^\s*│ tick-2$/m, running);
      // Rows fit the width.
      for (const l of running.split("\n")) assert.ok([...l].length <= 120, l);
      // The cached echo was printed for good above the live area.
      assert.match(running, /^\s*● exec echo cached-step CACHED$/m, running);

      const done = await until("the end", () => {
        const p = tmux("capture-pane", "-p", "-S", "-", "-t", name);
        return /EXIT=\d+/.test(p) ? p : undefined;
      });
      assert.match(done, /EXIT=3/);
      // No stale frame anywhere, scrollback included: every spinner row was overwritten.
      assert.doesNotMatch(done, /^\s*[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /m, done);
      assert.equal(done.match(/✔ exec sh -c for i in/g)?.length, 1, done);
      // The program's own output survived the redraws.
      assert.match(done, /^the program's own line$/m, done);
      assert.match(done, /^\s*✔ exec sh -c for i in .* \d+\.\ds$/m, done);
      assert.match(done, /^\s*✘ exec sh -c echo boom-out.* ERROR \d+\.\ds$/m, done);
      assert.match(done, /^\s*│ boom-out$/m, done);
      assert.match(done, /^\s*│ boom-err$/m, done);
      assert.match(done, /^✘ \d+ run, \d+ cached, 1 failed in \d+\.\ds$/m, done);
      // Once finished, the slow step's output no longer shows (only a failed step's does).
      assert.doesNotMatch(done.slice(done.lastIndexOf("exec sh -c for i in")), /│ tick-8/);
    } finally {
      tmux("kill-session", "-t", name);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
