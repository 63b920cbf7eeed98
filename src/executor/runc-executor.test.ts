/**
 * Root tests: real runc, a busybox rootfs, no fakes. Each test gets its own
 * runc --root and bundle dir and checks that both are empty afterwards.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { CancelledError, FailedPreconditionError } from "../errors.js";
import { RuncExecutor } from "./runc-executor.js";
import type { ProcessSpec, RunSpec } from "./types.js";
import { resolveUser } from "./user.js";

const RUNC = "/usr/sbin/runc";
const canRun = process.getuid?.() === 0 && existsSync(RUNC) && existsSync("/bin/busybox") && existsSync("/usr/bin/tini-static");

function makeRootfs(dir: string): void {
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp", "work"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "bin/busybox"));
  execFileSync("chmod", ["755", join(dir, "bin/busybox")]);
  for (const applet of ["sh", "echo", "true", "false", "cat", "id", "sleep", "ls", "pwd", "env"]) {
    symlinkSync("busybox", join(dir, "bin", applet));
  }
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nusers:x:100:nobody\nnogroup:x:65534:\n");
}

function hostNofileHard(): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(hard);
}

function runcList(root: string): unknown[] {
  const out = execFileSync(RUNC, ["--root", root, "list", "--format", "json"], { encoding: "utf8" }).trim();
  return (JSON.parse(out || "null") as unknown[] | null) ?? [];
}

const ROOT_USER = { uid: 0, gid: 0, additionalGids: [] };

describe("RuncExecutor", { skip: canRun ? false : "needs root, runc, busybox-static and tini-static" }, () => {
  let rootfs: string;
  let rootfsParent: string;
  let stateDir: string;
  let executor: RuncExecutor;
  let seq = 0;

  before(() => {
    rootfsParent = mkdtempSync(join(tmpdir(), "tanto-rootfs-"));
    rootfs = join(rootfsParent, "fs");
    makeRootfs(rootfs);
  });
  after(() => rmSync(rootfsParent, { recursive: true, force: true }));

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), "tanto-exec-"));
    executor = new RuncExecutor({ runcPath: RUNC, root: join(stateDir, "runc"), bundleDir: join(stateDir, "bundles") });
  });
  afterEach(async () => {
    try {
      assert.deepEqual(runcList(join(stateDir, "runc")), [], "no containers left under --root");
      const bundles = existsSync(join(stateDir, "bundles")) ? readdirSync(join(stateDir, "bundles")) : [];
      assert.deepEqual(bundles, [], "no bundle dirs left");
    } finally {
      await executor.shutdown();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  const id = (): string => `t${process.pid}-${++seq}`;
  const proc = (args: string[], extra: Partial<ProcessSpec> = {}): ProcessSpec => ({
    args,
    env: ["PATH=/bin"],
    cwd: "/",
    user: ROOT_USER,
    ...extra,
  });
  const spec = (args: string[], extra: Partial<ProcessSpec> = {}): RunSpec => ({ rootfs, process: proc(args, extra) });

  async function capture(s: RunSpec, stdin?: string, signal?: AbortSignal) {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const io = { stdout: (c: Buffer) => out.push(c), stderr: (c: Buffer) => err.push(c), ...(stdin === undefined ? {} : { stdin }) };
    const { exitCode } = await executor.run(id(), s, io, signal === undefined ? {} : { signal });
    return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  it("captures stdout and stderr separately", async () => {
    const r = await capture(spec(["sh", "-c", "echo to-out; echo to-err >&2"]));
    assert.deepEqual(r, { exitCode: 0, stdout: "to-out\n", stderr: "to-err\n" });
  });

  it("returns the process's exit code", async () => {
    const r = await capture(spec(["sh", "-c", "exit 3"]));
    assert.equal(r.exitCode, 3);
  });

  it("reports 128+N for a process killed by signal N", async () => {
    const r = await capture(spec(["sh", "-c", "kill -TERM $$"]));
    assert.equal(r.exitCode, 143);
  });

  it("pipes stdin to the process", async () => {
    const r = await capture(spec(["cat"]), "hello\nworld\n");
    assert.deepEqual(r, { exitCode: 0, stdout: "hello\nworld\n", stderr: "" });
  });

  it("gives an empty, closed stdin when none is given", async () => {
    const r = await capture(spec(["cat"]));
    assert.deepEqual(r, { exitCode: 0, stdout: "", stderr: "" });
  });

  it("honours env and cwd", async () => {
    const r = await capture(spec(["sh", "-c", 'echo "$FOO|$(pwd)"'], { env: ["PATH=/bin", "FOO=bar baz"], cwd: "/work" }));
    assert.deepEqual(r, { exitCode: 0, stdout: "bar baz|/work\n", stderr: "" });
  });

  it("adds a default PATH when the env has none", async () => {
    const r = await capture(spec(["sh", "-c", 'echo "$PATH"'], { env: [] }));
    assert.equal(r.stdout, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
  });

  it("runs as a user resolved by name", async () => {
    const user = await resolveUser("nobody", rootfs);
    assert.deepEqual(user, { uid: 65534, gid: 65534, additionalGids: [100] });
    const r = await capture(spec(["sh", "-c", "id -u; id -g; id -G"], { user }));
    assert.deepEqual(r, { exitCode: 0, stdout: "65534\n65534\n65534 100\n", stderr: "" });
  });

  it("gives exit code 127 and a useful stderr for a missing binary", async () => {
    const r = await capture(spec(["nope"]));
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /nope/);
    assert.match(r.stderr, /No such file or directory|not found/);
  });

  it("gives exit code 127 for a missing binary without an init, too", async () => {
    executor = new RuncExecutor({ runcPath: RUNC, root: join(stateDir, "runc"), bundleDir: join(stateDir, "bundles"), initPath: false });
    const r = await capture(spec(["nope"]));
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /"nope": executable file not found/);
  });

  it("caps RLIMIT_NOFILE at the engine's hard limit", async () => {
    const r = await capture(spec(["sh", "-c", "ulimit -n; ulimit -Hn"]));
    const want = Math.min(1048576, hostNofileHard());
    assert.deepEqual(r, { exitCode: 0, stdout: `${want}\n${want}\n`, stderr: "" });
  });

  it("kills the container quickly on abort and rejects with CancelledError", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = capture(spec(["sleep", "100"]), undefined, controller.signal);
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(running, CancelledError);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started}ms`);
  });

  it("aborts cleanly at any point while runc is still creating the container", async () => {
    // runc needs tens of milliseconds to create a container; abort at several points in that window.
    for (const delay of [0, 5, 10, 20, 30, 45, 60]) {
      const controller = new AbortController();
      const running = capture(spec(["sleep", "100"]), undefined, controller.signal);
      setTimeout(() => controller.abort(), delay);
      await assert.rejects(running, CancelledError, `abort after ${delay}ms`);
      assert.deepEqual(runcList(join(stateDir, "runc")), [], `no container left after abort at ${delay}ms`);
    }
  });

  it("rejects at once when the signal is already aborted", async () => {
    await assert.rejects(capture(spec(["true"]), undefined, AbortSignal.abort()), CancelledError);
  });

  it("execs an extra process in a running container", async () => {
    const cid = id();
    const controller = new AbortController();
    const main = executor.run(cid, spec(["sleep", "100"]), {}, { signal: controller.signal });
    try {
      // The container exists once runc has started it; retry until then.
      let out = "";
      for (let i = 0; i < 100; i++) {
        const chunks: Buffer[] = [];
        try {
          const r = await executor.exec(cid, proc(["sh", "-c", "echo in-$FOO; exit 5"], { env: ["PATH=/bin", "FOO=x"] }), {
            stdout: (c) => chunks.push(c),
          });
          assert.equal(r.exitCode, 5);
          out = Buffer.concat(chunks).toString();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      assert.equal(out, "in-x\n");

      // A background child that keeps stdout open holds the exec up (as docker exec); abort still ends it.
      const started = Date.now();
      await assert.rejects(executor.exec(cid, proc(["sh", "-c", "sleep 30 & echo started"]), {}, { signal: AbortSignal.timeout(300) }), CancelledError);
      assert.ok(Date.now() - started < 4000, `aborting an exec with a background child took ${Date.now() - started}ms`);

      const errs: Buffer[] = [];
      const missing = await executor.exec(cid, proc(["nope"]), { stderr: (c) => errs.push(c) });
      assert.equal(missing.exitCode, 127);
      assert.match(Buffer.concat(errs).toString(), /"nope": executable file not found/);
    } finally {
      controller.abort();
      await assert.rejects(main, CancelledError);
    }
  });

  it("refuses exec in a container that is not running", async () => {
    await assert.rejects(executor.exec("nope", proc(["true"])), FailedPreconditionError);
  });

  it("cleanup() deletes containers left under its --root", async () => {
    // A container created behind the executor's back, as after an engine crash.
    const bundle = join(stateDir, "bundles", "orphan");
    mkdirSync(bundle, { recursive: true });
    execFileSync(RUNC, ["spec"], { cwd: bundle });
    const cfg = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    cfg.root = { path: rootfs };
    cfg.process.terminal = false;
    cfg.process.args = ["sleep", "100"];
    writeFileSync(join(bundle, "config.json"), JSON.stringify(cfg));
    execFileSync(RUNC, ["--root", join(stateDir, "runc"), "run", "--detach", "--bundle", bundle, "orphan"], { stdio: "ignore" });
    assert.equal(runcList(join(stateDir, "runc")).length, 1);
    await executor.cleanup();
    assert.equal(runcList(join(stateDir, "runc")).length, 0);
  });
});
