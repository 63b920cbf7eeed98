/**
 * Root tests: a real runc on a real PTY with a busybox shell — typing,
 * window size, Ctrl-C to the foreground process, the exit code back — in a
 * fresh container and in a running one (exec).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RuncExecutor } from "./runc-executor.js";
import type { TerminalControl, TerminalIO } from "./types.js";

const RUNC = "/usr/sbin/runc";
const canRun = process.getuid?.() === 0 && existsSync(RUNC) && existsSync("/bin/busybox") && existsSync("/usr/bin/tini-static");
const ROOT_USER = { uid: 0, gid: 0, additionalGids: [] };

/** A terminal whose screen is a string, and a way to wait for text on it. */
class Screen implements TerminalIO {
  text = "";
  control: TerminalControl | undefined;
  readonly #waiters: Array<() => void> = [];
  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {}
  output(chunk: Buffer): void {
    this.text += chunk.toString("utf8");
    for (const w of this.#waiters.splice(0)) w();
  }
  attached(control: TerminalControl): void {
    this.control = control;
  }
  /** Resolves once `pattern` appears after offset `from`. */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text.slice(from))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }
}

describe("RuncExecutor with a terminal", { skip: canRun ? false : "needs root, runc, busybox-static and tini-static" }, () => {
  let dir: string;
  let rootfs: string;
  let executor: RuncExecutor;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tanto-pty-"));
    rootfs = join(dir, "fs");
    for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp"]) mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync("/bin/busybox", join(rootfs, "bin/busybox"));
    execFileSync("chmod", ["755", join(rootfs, "bin/busybox")]);
    for (const applet of ["sh", "stty", "sleep", "echo", "tty", "cat"]) symlinkSync("busybox", join(rootfs, "bin", applet));
    writeFileSync(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    executor = new RuncExecutor({ runcPath: RUNC, root: join(dir, "runc"), bundleDir: join(dir, "bundles") });
  });
  after(async () => {
    await executor.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs an interactive shell: typing, resize, Ctrl-C and the exit code", async () => {
    const screen = new Screen(24, 80);
    const run = executor.run("pty-run", { rootfs, process: { args: ["sh"], env: ["PS1=pty$ "], cwd: "/", user: ROOT_USER } }, { terminal: screen });
    await screen.waitFor(/pty\$ /);
    const type = async (line: string, expect: RegExp): Promise<void> => {
      const from = screen.text.length;
      screen.control!.write(line);
      await screen.waitFor(expect, from);
    };
    await type("tty; stty size\r", /\/dev\/pts\/\d+\r?\n24 80\r?\n/);
    screen.control!.resize(100, 40);
    await type("stty size\r", /40 100\r?\n/);
    // Ctrl-C ends the foreground sleep, not the shell: the prompt comes back long before 30 s.
    const started = Date.now();
    await type("sleep 30\r", /sleep 30\r?\n/);
    // Echoed is not yet running in the foreground: give the shell time to start it.
    await new Promise((r) => setTimeout(r, 500));
    screen.control!.write("\x03");
    await type("echo back $?\r", /back 130/);
    assert.ok(Date.now() - started < 10_000, "Ctrl-C did not interrupt sleep");
    screen.control!.write("exit 7\r");
    assert.deepEqual(await run, { exitCode: 7 });
    assert.deepEqual(readdirSync(join(dir, "bundles")), []);
  });

  it("execs a process with a terminal in a running container", async () => {
    const main = executor.run("pty-svc", { rootfs, process: { args: ["sleep", "60"], env: [], cwd: "/", user: ROOT_USER } });
    for (let i = 0; ; i++) {
      const state = execFileSync(RUNC, ["--root", join(dir, "runc"), "list", "--format", "json"], { encoding: "utf8" });
      if (/"id":"pty-svc","pid":\d+,"status":"running"/.test(state)) break;
      assert.ok(i < 100, "the container did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
    const screen = new Screen(30, 120);
    const exec = await executor.exec("pty-svc", { args: ["sh", "-c", "tty; stty size; exit 3"], env: [], cwd: "/", user: ROOT_USER }, { terminal: screen });
    assert.equal(exec.exitCode, 3);
    assert.match(screen.text, /\/dev\/pts\/\d+\r?\n30 120/);
    await executor.signal("pty-svc", "KILL");
    assert.equal((await main).exitCode, 137);
  });
});
