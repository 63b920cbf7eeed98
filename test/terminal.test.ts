/**
 * Interactive terminals, as a person uses them: an SDK program run by
 * `tanto run` in a real terminal (tmux, on a server of our own) calls
 * `.terminal()`; the test types into the pane and reads it — the pipeline's
 * state is there, `stty size` follows the window, Ctrl-C stops a `sleep`
 * (not the shell), and the exit code comes back to the client.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { freePort } from "./support/ports.js";

const PROGRAM = path.join(REPO, "test", "sdk", "terminal.mjs");
/** Our own tmux server: nothing here touches anyone else's sessions. */
const SOCKET = `tanto-term-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000, show?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${show ? `; the terminal shows:\n${show()}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("terminal", { skip: process.getuid?.() === 0 ? false : "needs root" }, () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  /** The same engine as a remote one: over TCP with its token. */
  let remote: Record<string, string>;

  before(async () => {
    const registry = await testRegistry();
    const token = `term-token-${process.pid}`;
    const port = await freePort();
    engine = await startEngine({ registry, extraArgs: ["--addr", `tcp://127.0.0.1:${port}`], env: { ...process.env, TANTO_ENGINE_TOKEN: token } });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, TERM: "xterm-256color" };
    remote = { _EXPERIMENTAL_DAGGER_RUNNER_HOST: `tcp://127.0.0.1:${port}`, TANTO_ENGINE_TOKEN: token };
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-terminal-"));
  });
  after(async () => {
    try {
      tmux("kill-server");
    } catch {
      // No session left: the server is gone already.
    }
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Start `tanto run node terminal.mjs` (or another tanto command) in a new 100x30 tmux window; returns a pane reader. */
  async function session(
    name: string,
    kind: string,
    argv = ["run", "node", PROGRAM],
    extraEnv: Record<string, string> = {},
  ): Promise<{ pane(): string; all(): string; keys(...k: string[]): void }> {
    const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
    const script = path.join(dir, `${name}.sh`);
    const exports = Object.entries({ ...env, ...extraEnv, TANTO_TERMINAL: kind })
      .filter(([k]) => /^(PATH|HOME|TANTO_|_EXPERIMENTAL_DAGGER|TERM$)/.test(k))
      .map(([k, v]) => `export ${k}=${quote(String(v))}`)
      .join("\n");
    const command = [CLI, ...argv].map(quote).join(" ");
    await fs.writeFile(script, `${exports}\ncd ${quote(REPO)}\n${command}\necho "RUN-EXIT=$?"\nsleep 600\n`);
    tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", `sh ${script}`);
    return {
      pane: () => tmux("capture-pane", "-p", "-t", name),
      all: () => tmux("capture-pane", "-p", "-S", "-", "-t", name),
      keys: (...k: string[]) => void tmux("send-keys", "-t", name, ...k),
    };
  }

  test("Container.terminal: the pipeline's state, typing, resize, Ctrl-C, the exit code", async () => {
    const t = await session("container", "container");
    await until("the prompt", () => (/^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    t.keys("cat /greeting; echo mark=$MARK", "Enter");
    await until(
      "the pipeline's file",
      () => (/^hello from the pipeline$/m.test(t.pane()) && /^mark=from-pipeline$/m.test(t.pane()) ? true : undefined),
      60_000,
      t.all,
    );
    t.keys("stty size", "Enter");
    await until("the first size", () => (/^30 100$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    tmux("resize-window", "-t", "container", "-x", "120", "-y", "40");
    // tmux's SIGWINCH can reach the CLI after keys typed at once, which then report the old size
    // (seen under load): ask again, once a second, until the new size shows.
    let polls = 0;
    await until(
      "the new size",
      () => {
        if (/^40 120$/m.test(t.pane())) return true;
        if (polls++ % 10 === 0) t.keys("clear; stty size", "Enter");
        return undefined;
      },
      10_000,
      t.all,
    );
    t.keys("sleep 60", "Enter");
    await until("the sleep to start", () => (/^tanto \/ \$ sleep 60$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    // Echoed is not yet in the foreground: give the shell time to start it.
    await new Promise((r) => setTimeout(r, 1000));
    const started = Date.now();
    t.keys("C-c");
    t.keys("echo sleep-ended=$?", "Enter");
    await until("Ctrl-C to end the sleep", () => (/^sleep-ended=130$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    assert.ok(Date.now() - started < 20_000, "the sleep was not interrupted");
    t.keys("exit 42", "Enter");
    const done = await until("the end", () => {
      const p = t.all();
      return /RUN-EXIT=\d+/.test(p) ? p : undefined;
    });
    assert.match(done, /^exit 42$/m, done);
    // The pipeline went on after the terminal, whatever its exit code.
    assert.match(done, /^after the terminal: hello from the pipeline$/m, done);
    assert.match(done, /RUN-EXIT=0/, done);
  });

  /** Wait for the program's end; returns the whole pane, scrollback included. */
  const finished = (t: { all(): string }): Promise<string> =>
    until(
      "the end",
      () => {
        const p = t.all();
        return /RUN-EXIT=\d+/.test(p) ? p : undefined;
      },
      60_000,
      t.all,
    );

  test("withDefaultTerminalCmd: terminal() runs it, and its exit code is shown", async () => {
    const t = await session("default", "default");
    const done = await finished(t);
    assert.match(done, /Attaching terminal: sh -c echo default-cmd-ran; exit 5/, done);
    assert.match(done, /^default-cmd-ran$/m, done);
    assert.match(done, /^exit 5$/m, done);
    assert.match(done, /^default done$/m, done);
  });

  test("Directory.terminal, through a remote engine (TCP): the directory at /src, the working directory, read-only", async () => {
    const t = await session("directory", "directory", ["run", "node", PROGRAM], remote);
    await until("the prompt", () => (/^tanto \/src \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    t.keys("cat note.txt; touch x 2>/dev/null || echo read-only", "Enter");
    await until("the directory's file", () => (/^a note in the directory$/m.test(t.pane()) && /^read-only$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    t.keys("exit", "Enter");
    const done = await finished(t);
    assert.match(done, /^directory done$/m, done);
  });

  test("Service.terminal: a shell in the running service", async () => {
    const t = await session("service", "service");
    await until("the prompt", () => (/^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    // The service's own process wrote this file: this shell is in its container.
    t.keys("cat /tmp/mark", "Enter");
    await until("the service's state", () => (/^service-state$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    t.keys("exit 3", "Enter");
    const done = await finished(t);
    assert.match(done, /^exit 3$/m, done);
    assert.match(done, /^service done$/m, done);
  });

  test("tanto call … terminal: a terminal on the container a call returns", async () => {
    const image = env["TANTO_TEST_IMAGE"]!;
    const t = await session("call", "none", [
      "call",
      "-M",
      "container",
      "from",
      "--address",
      image,
      "with-env-variable",
      "--name",
      "MARK",
      "--value",
      "by-call",
      "terminal",
    ]);
    await until("the prompt", () => (/^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    t.keys("echo mark=$MARK", "Enter");
    await until("the container's variable", () => (/^mark=by-call$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    t.keys("exit", "Enter");
    const done = await finished(t);
    assert.match(done, /^exit 0$/m, done);
    assert.match(done, /RUN-EXIT=0/, done);
  });

  test("a client without a terminal: terminal() fails, naming why", async () => {
    const r = await run([CLI, "run", "--progress=plain", "node", PROGRAM], { env: { ...env, TANTO_TERMINAL: "container" } });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /cannot open an interactive terminal: this client's stdin and stdout are not a terminal/, r.stderr);
  });

  test("tanto run -i: a failed exec opens a terminal in the state it left, then the pipeline fails as before", async () => {
    const t = await session("interactive", "fail", ["run", "-i", "node", PROGRAM]);
    await until("the prompt", () => (/^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    const shown = t.all();
    assert.match(shown, /Exec failed, attaching terminal: sh -c echo partial > \/tmp\/state; exit 9/, shown);
    assert.match(shown, /! exit code 9/, shown);
    t.keys("cat /tmp/state /greeting", "Enter");
    await until("what the command left", () => (/^partial$/m.test(t.pane()) && /^hello from the pipeline$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    t.keys("exit", "Enter");
    const done = await finished(t);
    assert.match(done, /^pipeline failed with exit code 9$/m, done);
  });

  test("a client that hangs up mid-terminal: the container is stopped and nothing is left", async () => {
    const t = await session("hangup", "container");
    await until("the prompt", () => (/^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    assert.equal((await leftovers(engine.root)).containers.length, 1, "the terminal's container runs");
    // Closing the window hangs up `tanto run` (SIGHUP), which ends the session.
    tmux("kill-session", "-t", "hangup");
    const end = Date.now() + 30_000;
    let left = await leftovers(engine.root);
    while ((left.containers.length > 0 || left.mounts.length > 0) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      left = await leftovers(engine.root);
    }
    assert.deepEqual(left, { mounts: [], containers: [] });
  });

  test("tanto call -i: a failed exec opens a terminal, then the call fails with the command's exit code", async () => {
    const image = env["TANTO_TEST_IMAGE"]!;
    const argv = ["call", "-i", "-M", "container", "from", "--address", image, "with-exec", "--args", "sh,-c,echo call-partial > /tmp/state; exit 4", "stdout"];
    const t = await session("call-i", "none", argv);
    await until("the prompt", () => (/^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    t.keys("cat /tmp/state", "Enter");
    await until("what the command left", () => (/^call-partial$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    t.keys("exit", "Enter");
    const done = await finished(t);
    assert.match(done, /! exit code 4/, done);
    assert.match(done, /RUN-EXIT=4/, done);
  });

  test("withDefaultTerminalCmd's experimentalPrivilegedNesting and insecureRootCapabilities reach the terminal", async () => {
    const t = await session("privileged", "privileged");
    const probe = "echo port=${DAGGER_SESSION_PORT:-none}; grep CapEff /proc/self/status";
    await until("the first prompt", () => (/^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 60_000, t.all);
    t.keys("clear", "Enter");
    t.keys(probe, "Enter");
    await until("the privileged shell", () => (/^port=\d+$/m.test(t.pane()) && /^CapEff:\s+\w+$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    const privileged = /^CapEff:\s+(\w+)$/m.exec(t.pane())![1]!;
    t.keys("exit", "Enter");
    // The second terminal: plain, so no nested client and Docker's default capabilities.
    await until("the second prompt", () => (/^exit 0$/m.test(t.all()) && /^tanto \/ \$$/m.test(t.pane()) ? true : undefined), 30_000, t.all);
    t.keys("clear", "Enter");
    t.keys(probe, "Enter");
    await until("the plain shell", () => (/^port=none$/m.test(t.pane()) && /^CapEff:\s+\w+$/m.test(t.pane()) ? true : undefined), 10_000, t.all);
    const plain = /^CapEff:\s+(\w+)$/m.exec(t.pane())![1]!;
    assert.ok(BigInt(`0x${privileged}`) > BigInt(`0x${plain}`), `privileged ${privileged} vs plain ${plain}`);
    t.keys("exit", "Enter");
    const done = await finished(t);
    assert.match(done, /^privileged done$/m, done);
  });
});
