/**
 * Other users of the host and untrusted code: the state directory is closed
 * to unprivileged users (checked as `nobody` through runuser), secrets never
 * reach the state filesystem, and containers run confined (seccomp, no new
 * privileges, masked /proc). Each case reports what it counted.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { RuncExecutor } from "../src/executor/runc-executor.js";
import { openToOthers } from "../src/server/state-dir.js";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

/** Run argv as the host's `nobody` user. */
function asNobody(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(["runuser", "-u", "nobody", "--", ...argv], { timeoutMs: 10_000 });
}

/** Every path under dir whose mode matches `bits` (walks as root, skipping mount points of other filesystems). */
async function findByMode(dir: string, bits: number, limit = 20): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (found.length >= limit) return;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await fs.lstat(p);
        if ((st.mode & bits) === bits) found.push(p);
      }
    }
  };
  await walk(dir);
  return found;
}

describe("state directory closed to other users", () => {
  let engine: TestEngine;
  let image: string;

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    engine = await startEngine();
    // The test's temporary parent is 0700; open it as /var/lib is, so only the root's own mode fences others off.
    await fs.chmod(path.dirname(engine.root), 0o755);
  });
  after(() => engine.destroy());

  test("nobody cannot reach a setuid binary, cached exec output, metadata.db or a cache volume", async () => {
    const marker = `cached-output-${process.pid}-${Date.now()}`;
    // cacheVolume is an object: build its ID first.
    const vol = await run([CLI, "query", `{ cacheVolume(key: "${marker}") { id } }`], { env: engine.env });
    assert.equal(vol.code, 0, vol.stderr);
    const volId = JSON.parse(vol.stdout).cacheVolume.id as string;
    const query = `{ container { from(address: "${image}") {
      withMountedCache(path: "/cache", cache: ${JSON.stringify(volId)}) {
      withExec(args: ["sh", "-c", "cp /bin/busybox /suid && chmod 4755 /suid && echo ${marker} > /out && echo ${marker} > /cache/v"]) {
      file(path: "/out") { contents } } } } } }`;
    const r = await run([CLI, "query", query], { env: engine.env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(marker));

    // Restart on a root opened the way an older engine left it: the start closes it again.
    await engine.stop();
    await fs.chmod(engine.root, 0o711);
    await fs.chmod(path.join(engine.root, "snapshots"), 0o755);
    await fs.chmod(path.join(engine.root, "metadata.db"), 0o644);
    await engine.restart();
    assert.deepEqual(await openToOthers(engine.root), [], "root and its entries are 0700/0600 after start");

    // As root the targets exist: a setuid copy of busybox, the output file, the volume file.
    const setuid = await findByMode(path.join(engine.root, "snapshots"), 0o4755);
    assert.ok(setuid.length > 0, "the exec's setuid file is in a snapshot");
    const targets = [
      ...setuid,
      path.join(engine.root, "metadata.db"),
      path.join(engine.root, "snapshots"),
      path.join(engine.root, "content", "blobs"),
      path.join(engine.root, "volumes"),
    ];
    let reached = 0;
    for (const t of targets) {
      const stat = await asNobody(["stat", "-c", "%a", t]);
      const read = await asNobody(["cat", t]);
      const exec = await asNobody([t, "true"]);
      if (stat.code === 0 || read.code === 0 || exec.code === 0) reached++;
    }
    // The root itself may be seen (its parent is open) but not listed.
    const list = await asNobody(["ls", engine.root]);
    if (list.code === 0) reached++;
    // Control: nobody can run commands and reach the parent directory, so the denials above are the root's doing.
    const control = await asNobody(["stat", "-c", "%a", path.dirname(engine.root)]);
    assert.equal(control.code, 0, `runuser as nobody works: ${control.stderr}`);
    console.log(`state dir as nobody: ${targets.length + 1} targets tried, ${reached} reached`);
    assert.equal(reached, 0, "nobody reached nothing under the state directory");
  });
});

/** Regular files under dir on dir's own filesystem (memory filesystems mounted below are skipped) containing needle. */
async function filesOnDiskContaining(dir: string, needle: string): Promise<{ scanned: number; hits: string[] }> {
  const list = await run(["find", dir, "-xdev", "-type", "f", "-print0"], { timeoutMs: 60_000 });
  const files = list.stdout.split("\0").filter((f) => f !== "");
  const hits: string[] = [];
  const want = Buffer.from(needle);
  for (const f of files) {
    const bytes = await fs.readFile(f).catch(() => undefined);
    if (bytes?.includes(want)) hits.push(f);
  }
  return { scanned: files.length, hits };
}

describe("secrets never on persistent disk", () => {
  let engine: TestEngine;
  let image: string;

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    engine = await startEngine();
  });
  after(() => engine.destroy());

  test("while an exec with a secret variable and file runs, and after a kill -9, no file on the state filesystem holds the value", async () => {
    const secret = `s3cr3t-${process.pid}-${Date.now()}-value`;
    const env = { ...engine.env, TANTO_TEST_IMAGE: image, TANTO_SECRET_VALUE: secret, NODE_PATH: path.join(REPO, "node_modules") };
    const bundles = path.join(engine.root, "run", "bundles");
    /** The exec's bundle, once it holds the secret (the exec is running then). */
    const runningBundle = async (): Promise<string> => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        for (const id of await fs.readdir(bundles).catch(() => [])) {
          const config = await fs.readFile(path.join(bundles, id, "config.json"), "utf8").catch(() => "");
          if (config.includes(secret)) return path.join(bundles, id);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("no running exec's bundle holds the secret");
    };
    let scanned = 0;
    const hits: string[] = [];

    // 1. During a running exec that completes.
    const first = run([CLI, "run", "node", path.join(REPO, "test", "sdk", "secret-exec.mjs")], { env: { ...env, TANTO_TEST_SLEEP: "4" } });
    const bundle = await runningBundle();
    const fsType = (await run(["stat", "-f", "-c", "%T", bundle])).stdout.trim();
    assert.equal(fsType, "tmpfs", "the bundle is on a memory filesystem");
    let scan = await filesOnDiskContaining(engine.root, secret);
    scanned += scan.scanned;
    hits.push(...scan.hits);
    const done = await first;
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(done.stdout.trim().split(/\s+/), [String(secret.length), String(secret.length)], "the exec saw the secret, as a variable and as a file");

    // 2. The engine killed while such an exec runs: nothing on disk, and a restart removes the bundle.
    const second = run([CLI, "run", "node", path.join(REPO, "test", "sdk", "secret-exec.mjs")], { env: { ...env, TANTO_TEST_SLEEP: "30" } });
    await runningBundle();
    await engine.kill();
    await second;
    scan = await filesOnDiskContaining(engine.root, secret);
    scanned += scan.scanned;
    hits.push(...scan.hits);
    await engine.restart();
    scan = await filesOnDiskContaining(engine.root, secret);
    scanned += scan.scanned;
    hits.push(...scan.hits);
    const leftBundles = await fs.readdir(bundles);
    console.log(`secret scan: ${scanned} files scanned in 3 passes, ${hits.length} hold the secret, ${leftBundles.length} bundles left after restart`);
    assert.deepEqual(hits, [], "no file on the state filesystem holds the secret");
    assert.deepEqual(leftBundles, [], "a restart leaves no bundle of the dead engine");
  });
});

/** A rootfs of the host's static busybox and the compiled probe (test/fixtures/confinement/probe.c). */
async function confinementRootfs(dir: string): Promise<void> {
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc"]) await fs.mkdir(path.join(dir, d), { recursive: true });
  await fs.copyFile("/bin/busybox", path.join(dir, "bin", "busybox"));
  await fs.chmod(path.join(dir, "bin", "busybox"), 0o755);
  for (const applet of ["sh", "cat", "grep", "unshare", "mount", "echo"]) await fs.symlink("busybox", path.join(dir, "bin", applet));
  const cc = await run(["cc", "-static", "-O1", "-o", path.join(dir, "bin", "probe"), path.join(REPO, "test", "fixtures", "confinement", "probe.c")]);
  assert.equal(cc.code, 0, `compiling the probe: ${cc.stderr}`);
}

describe("containers are confined: seccomp, no_new_privileges, masked /proc", () => {
  let dir: string;
  let executor: RuncExecutor;
  let seq = 0;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-confine-"));
    await confinementRootfs(path.join(dir, "rootfs"));
    executor = new RuncExecutor({ root: path.join(dir, "runc"), bundleDir: path.join(dir, "bundles") });
  });
  after(async () => {
    await executor.shutdown();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function inContainer(script: string, insecure: boolean): Promise<string> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const { exitCode } = await executor.run(
      `confine-${process.pid}-${++seq}`,
      {
        rootfs: path.join(dir, "rootfs"),
        process: { args: ["sh", "-c", script], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] } },
        ...(insecure ? { insecureRootCapabilities: true } : {}),
      },
      { stdout: (c) => out.push(c), stderr: (c) => err.push(c) },
    );
    assert.equal(exitCode, 0, Buffer.concat(err).toString());
    return Buffer.concat(out).toString();
  }

  const SCRIPT = [
    "probe",
    "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\\t ' | sed 's/:/=/'",
    "unshare -m true 2>/dev/null && echo busybox-unshare=ok || echo busybox-unshare=denied",
    "mount -t tmpfs x /tmp 2>/dev/null && echo busybox-mount=ok || echo busybox-mount=denied",
    "echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c)",
    "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo proc-sys=writable || echo proc-sys=read-only",
  ].join("; ");

  test("by default, known-denied calls fail and the process is confined", async () => {
    for (const applet of ["tr", "sed", "wc"]) await fs.symlink("busybox", path.join(dir, "rootfs", "bin", applet)).catch(() => undefined);
    const started = Date.now();
    const out = await inContainer(SCRIPT, false);
    const got = Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((l) => l.split("=") as [string, string]),
    );
    const denied = ["unshare", "mount", "keyctl", "ptrace"].filter((k) => got[k] === "EPERM");
    console.log(`confined: ${denied.length}/4 probe calls denied (${JSON.stringify(got)}) in ${Date.now() - started} ms`);
    assert.deepEqual(
      got,
      {
        unshare: "EPERM",
        mount: "EPERM",
        keyctl: "EPERM",
        ptrace: "EPERM",
        NoNewPrivs: "1",
        Seccomp: "2",
        "busybox-unshare": "denied",
        "busybox-mount": "denied",
        kcore: "0",
        "proc-sys": "read-only",
      },
      out,
    );
  });

  test("insecureRootCapabilities lifts all of it (and is the only way out)", async () => {
    const out = await inContainer(SCRIPT, true);
    const got = Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((l) => l.split("=") as [string, string]),
    );
    assert.deepEqual(
      [got["unshare"], got["mount"], got["keyctl"], got["ptrace"], got["NoNewPrivs"], got["Seccomp"], got["busybox-unshare"], got["proc-sys"]],
      ["ok", "ok", "ok", "ok", "0", "0", "ok", "writable"],
      out,
    );
  });
});
