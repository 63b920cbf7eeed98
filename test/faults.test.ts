/**
 * A fault inside one request fails that request only. Exports the client
 * cannot write, and clients that vanish in the middle of an export, an upload
 * of their files or a tunnel, each fail (or end) their own work while the
 * engine keeps serving every other session. Faults are injected for real:
 * the official SDK through `tanto run`, or a hand-driven session (the real
 * client library answering the engine's calls as the test decides).
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import tar from "tar-stream";
import type { CallEvent, ReadFilesParams, StatTreeResult, TunnelListenParams } from "../src/http/session-protocol.js";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { RawSession } from "./support/raw-session.js";

const BIG = 4 << 20;

/** A tar holding `big`, BIG bytes of it: all of them, or the first 64 KiB then `end` (an error, or a stall). */
function bigTar(opts: { cut?: "error" | "stall" } = {}): Readable {
  const pack = tar.pack();
  const entry = pack.entry({ name: "big", size: BIG, mode: 0o644, mtime: new Date(1_000) });
  if (opts.cut) entry.write(Buffer.alloc(64 << 10, 1));
  else {
    entry.end(Buffer.alloc(BIG, 1));
    pack.finalize();
  }
  async function* bytes(): AsyncGenerator<Buffer> {
    let sent = 0;
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      yield chunk;
      sent += chunk.length;
      if (opts.cut && sent > 60_000) {
        if (opts.cut === "error") throw new Error("the client's disk failed");
        await new Promise(() => undefined);
      }
    }
  }
  return Readable.from(bytes());
}

const LISTING: StatTreeResult = {
  root: "/nowhere/raw-upload",
  kind: "dir",
  entries: [{ path: "big", type: "file", mode: 0o644, size: BIG, mtimeNs: "1000000000" }],
};

describe("faults stay inside their request", () => {
  let engine: TestEngine;
  let image: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let workdir: string;

  before(async () => {
    const registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    engine = await startEngine({ registry });
    url = engine.env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]!;
    env = { ...engine.env, TANTO_TEST_IMAGE: image, NODE_PATH: path.join(REPO, "node_modules") };
    workdir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-faults-"));
    await fs.writeFile(path.join(workdir, "blocker"), "a regular file\n");
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(workdir, { recursive: true, force: true });
  });

  /** The engine still answers, another session still runs execs, and no fault escaped to the process. */
  async function stillServing(tag: string): Promise<void> {
    assert.equal((await engine.client.health()).version.length > 0, true);
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "many-execs.mjs")], {
      env: { ...env, TANTO_TEST_TAG: tag, TANTO_TEST_EXECS: "2" },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [`${tag}-0`, `${tag}-1`]);
    assert.doesNotMatch(engine.logs(), /uncaught exception|unhandled rejection/);
  }

  /** What a vanished session ran (containers, mounts) goes within a few seconds. */
  async function nothingLeft(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const left = await leftovers(engine.root);
      if (left.containers.length === 0 && left.mounts.length === 0) return;
      assert.ok(Date.now() < deadline, `still there after the client left: ${JSON.stringify(left)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test("exports the client cannot write fail in their session; another session keeps working", async () => {
    const faulty = run([CLI, "run", "node", path.join(REPO, "test", "sdk", "faults.mjs")], { env, cwd: workdir });
    const other = run([CLI, "run", "node", path.join(REPO, "test", "sdk", "many-execs.mjs")], {
      env: { ...env, TANTO_TEST_TAG: "side", TANTO_TEST_EXECS: "3" },
    });
    const [f, o] = await Promise.all([faulty, other]);
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(JSON.parse(o.stdout), ["side-0", "side-1", "side-2"]);
    assert.equal(f.code, 0, f.stderr);
    const out = JSON.parse(f.stdout) as Record<string, { ok?: string; error?: string }>;
    const blocker = path.join(workdir, "blocker");
    for (const [name, target] of [
      ["containerUnderFile", "blocker/image.tar"],
      ["tarballUnderFile", "blocker/tarball.tar"],
      ["fileUnderFile", "blocker/passwd"],
      ["dirUnderFile", "blocker/dir"],
    ] as const) {
      assert.equal(out[name]?.ok, undefined, name);
      assert.equal(out[name]?.error?.includes(`cannot export to "${target}": ${blocker} is not a directory`), true, `${name}: ${out[name]?.error}`);
    }
    for (const [name, target] of [
      ["containerParent", "../tanto-fault-image.tar"],
      ["tarballParent", "../tanto-fault-tarball.tar"],
      ["dirParent", "../tanto-fault-dir"],
    ] as const) {
      assert.equal(out[name]?.ok, undefined, name);
      assert.equal(out[name]?.error?.includes(`path "${target}" is outside the session's working directory`), true, `${name}: ${out[name]?.error}`);
    }
    assert.equal(out["after"]?.ok, "still here\n", "the faulty session itself goes on");
    assert.deepEqual((await fs.readdir(workdir)).sort(), ["blocker"], "nothing half-written is left");
    await stillServing("after-exports");
  });

  test("a client that vanishes in the middle of an export", async () => {
    let broke!: () => void;
    const broken = new Promise<void>((r) => (broke = r));
    const s = await RawSession.open(url, {
      "host.write": async (call: CallEvent, session) => {
        const input = await session.client.callInput(session.id, call.id);
        input.once("data", () => {
          input.destroy();
          void session.hangUp().then(broke);
        });
      },
    });
    const answer = s.query(`{ container { from(address: "${image}") { export(path: "image.tar") } } }`).catch((err: unknown) => err);
    await broken;
    assert.ok((await answer) instanceof Error, "the vanished client gets no answer");
    await stillServing("after-export-crash");
  });

  test("a client that vanishes, or fails to read its files, in the middle of an upload", async () => {
    const params = '{ host { directory(path: "/nowhere/raw-upload") { entries } } }';
    // The client's read fails half-way: the request fails, the session lives on.
    const failing = await RawSession.open(url, {
      "host.statTree": (call, s) => s.client.replyCall(s.id, call.id, { json: LISTING }),
      "host.readFiles": (call, s) => s.client.replyCall(s.id, call.id, { stream: bigTar({ cut: "error" }) }),
    });
    const failed = await failing.query(params, 30_000);
    assert.match(failed.errors?.[0]?.message ?? "", /.+/, "the upload's failure is reported");
    await failing.hangUp();

    // The client vanishes half-way: the mirror it was filling is not left locked.
    let vanished!: () => void;
    const gone = new Promise<void>((r) => (vanished = r));
    const crashing = await RawSession.open(url, {
      "host.statTree": (call, s) => s.client.replyCall(s.id, call.id, { json: LISTING }),
      "host.readFiles": (call, s) => {
        void s.client.replyCall(s.id, call.id, { stream: bigTar({ cut: "stall" }) }).catch(() => undefined);
        setTimeout(() => void s.hangUp().then(vanished), 300);
      },
    });
    await Promise.all([crashing.query(params).catch(() => undefined), gone]);

    // Same client machine, same directory: the next upload completes.
    const good = await RawSession.open(url, {
      "host.statTree": (call, s) => s.client.replyCall(s.id, call.id, { json: LISTING }),
      "host.readFiles": (call, s) => {
        assert.deepEqual((call.params as ReadFilesParams).files, ["big"]);
        return s.client.replyCall(s.id, call.id, { stream: bigTar() });
      },
    });
    const ok = await good.query(params, 30_000);
    assert.deepEqual(ok, { data: { host: { directory: { entries: ["big"] } } } });
    await good.hangUp();
    await stillServing("after-upload-crash");
  });

  test("a client that vanishes while its exec runs: the container is killed, nothing is left", async () => {
    const s = await RawSession.open(url, {});
    const answer = s.query(`{ container { from(address: "${image}") { withExec(args: ["sleep", "300"]) { stdout } } } }`).catch((err: unknown) => err);
    // Wait for the container to be running, then vanish.
    const deadline = Date.now() + 30_000;
    while ((await leftovers(engine.root)).containers.length === 0) {
      assert.ok(Date.now() < deadline, "the exec never started");
      await new Promise((r) => setTimeout(r, 50));
    }
    await s.hangUp();
    assert.ok((await answer) instanceof Error);
    await nothingLeft();
    await stillServing("after-exec-crash");
  });

  test("a client that drops tunnel connections, and then vanishes with one open", async () => {
    let tunnelId = "";
    const s = await RawSession.open(url, {
      "tunnel.listen": (call, session) => {
        const params = call.params as TunnelListenParams;
        tunnelId = params.id;
        return session.client.replyCall(session.id, call.id, { json: { ports: params.ports.map((p) => ({ frontend: 1, backend: p.backend })) } });
      },
    });
    const svc = await s.query(
      `{ container { from(address: "${image}") { withExposedPort(port: 80) { asService(args: ["httpd", "-f", "-p", "80", "-h", "/"]) { id } } } } }`,
    );
    const id = (svc.data as { container: { from: { withExposedPort: { asService: { id: string } } } } }).container.from.withExposedPort.asService.id;
    const ep = await s.query(`{ host { tunnel(service: ${JSON.stringify(id)}) { endpoint } } }`);
    assert.deepEqual(ep, { data: { host: { tunnel: { endpoint: "localhost:1" } } } });

    // Half a request, then gone.
    const half = await s.client.openTunnel(s.id, tunnelId, 80);
    half.write("GET /bin/busybox HTTP/1.0\r\n");
    half.destroy();
    // A whole request, then gone after the first bytes of a large answer.
    const reader = await s.client.openTunnel(s.id, tunnelId, 80);
    reader.write("GET /bin/busybox HTTP/1.0\r\n\r\n");
    const first = await new Promise<Buffer>((resolve, reject) => {
      reader.once("data", resolve);
      reader.once("error", reject);
    });
    assert.match(first.toString("latin1"), /^HTTP\/1\.[01] 200/);
    reader.destroy();
    // A port the service does not expose is refused, without harm.
    await assert.rejects(s.client.openTunnel(s.id, tunnelId, 81), /403/);
    // Still works, then the whole client vanishes with a connection open.
    const open = await s.client.openTunnel(s.id, tunnelId, 80);
    open.on("error", () => undefined);
    open.write("GET /bin/busybox HTTP/1.0\r\n\r\n");
    await new Promise((r) => open.once("data", r));
    await s.hangUp();
    await nothingLeft();
    await stillServing("after-tunnel-crash");
  });
});
