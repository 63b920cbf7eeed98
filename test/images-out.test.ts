/**
 * Images out of tanto and back in, through the official SDK and checked
 * with the tools people use: publish to a real registry and pull back;
 * export a tarball and import it; `docker load` + `docker run` of the
 * export and a `docker save` imported into tanto (a private dockerd, started
 * here); `podman load` of the export; `skopeo inspect` of the pushed image.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "images-out.mjs");

type Report = Record<string, unknown> & {
  published: string;
  exported: string;
  exportedDocker: string;
  exportedZstd: string;
  exportedMulti: string;
};

function which(cmd: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

async function manifestOf(registry: string, repo: string, reference: string): Promise<{ layers: Array<{ digest: string }>; manifests?: unknown[] }> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${reference}`, {
    headers: {
      accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  assert.equal(res.status, 200, `${repo}:${reference}`);
  return (await res.json()) as { layers: Array<{ digest: string }> };
}

/** A dockerd of our own: its own data root, exec root, pid file and socket, no iptables, no bridge. */
interface Dockerd {
  docker(args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

async function startDockerd(): Promise<Dockerd | string> {
  const dockerd = which("dockerd");
  // Debian's docker.io client (another `docker` earlier in PATH may be a different major version).
  const cli = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : which("docker");
  if (!dockerd || !cli) return "dockerd or docker is not installed (Debian package docker.io)";
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-dockerd-"));
  const sock = path.join(dir, "docker.sock");
  const logFile = path.join(dir, "dockerd.log");
  const log = openSync(logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(
      dockerd,
      [
        "--data-root",
        path.join(dir, "data"),
        "--exec-root",
        path.join(dir, "exec"),
        "--pidfile",
        path.join(dir, "docker.pid"),
        "-H",
        `unix://${sock}`,
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
      ],
      { stdio: ["ignore", log, log] },
    );
  } finally {
    closeSync(log);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const docker = (args: string[], opts: { timeoutMs?: number } = {}) =>
    run([cli, "-H", `unix://${sock}`, ...args], { env: { ...process.env, DOCKER_CONFIG: path.join(dir, "client") }, ...opts });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, "SIGTERM");
      const killed = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 30_000);
      await exited;
      clearTimeout(killed);
    }
    // dockerd unmounts what it mounted; anything left below its root would block removal.
    const info = await fs.readFile("/proc/self/mountinfo", "utf8");
    const mounts = info
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((p) => p.startsWith(dir))
      .sort()
      .reverse();
    for (const m of mounts) await run(["umount", "-l", m]);
    await fs.rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 40_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = await fs.readFile(logFile, "utf8").catch(() => "");
      await stop();
      return `dockerd exited at start: ${text.split("\n").slice(-5).join("\n")}`;
    }
    if ((await docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 5_000 })).code === 0) return { docker, stop };
    if (Date.now() > deadline) {
      const text = await fs.readFile(logFile, "utf8").catch(() => "");
      await stop();
      return `dockerd did not answer in 40s: ${text.split("\n").slice(-5).join("\n")}`;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("images out and in", () => {
  let engine: TestEngine;
  let registry: string;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let report: Report | undefined;

  const sdk = async (args: string[] = []): Promise<Record<string, unknown>> => {
    const r = await run([CLI, "run", "node", PROGRAM, ...args], { env, cwd: work, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const exported = (): Report => {
    assert.ok(report, "the SDK round trip ran first");
    return report;
  };

  before(async () => {
    registry = await testRegistry();
    engine = await startEngine({ registry });
    work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-images-out-"));
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, TANTO_TEST_REGISTRY: registry };
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(work, { recursive: true, force: true });
  });

  test("SDK: publish and pull back, export and import, asTarball, platforms, media types, compressions", async () => {
    const r = (report = (await sdk()) as Report);
    const expected = "hello from tanto\nmade\ngroup-gone\n/work\n";
    const digestRef = (tag: string) => new RegExp(`^${registry.replace(/\./g, "\\.")}/tanto-out:${tag}@sha256:[a-f0-9]{64}$`);
    assert.match(r.published, digestRef("1"));
    assert.equal(r["republished"], r.published, "publishing the same container twice gives the same digest");
    assert.equal(r["pulledStdout"], expected, "files, a deletion and the workdir survive the trip");
    assert.equal(r["pulledEnv"], "hi");
    assert.deepEqual(r["pulledEntrypoint"], ["sh", "-c"]);
    assert.deepEqual(r["pulledDefaultArgs"], ["cat /hello.txt"]);
    assert.equal(r["pulledLabel"], "yes");
    assert.deepEqual(r["pulledPorts"], [8080]);
    assert.equal(r["pulledUseEntrypoint"], "hello from tanto\n");
    for (const k of ["docker", "zstd", "plain", "multi"]) assert.match(r[`published${k[0]!.toUpperCase()}${k.slice(1)}`] as string, digestRef(k));
    for (const k of ["dockerStdout", "zstdStdout", "plainStdout", "multiStdout"]) assert.equal(r[k], expected, k);
    assert.equal(r["multiArm"], "arm64\n", "the arm64 variant of the index");

    assert.equal(r.exported, path.join(work, "image.tar"));
    for (const k of ["importedStdout", "importedZstdStdout", "importedMultiStdout", "tarballStdout"]) assert.equal(r[k], expected, k);
    assert.deepEqual(r["importedEntrypoint"], ["sh", "-c"]);
    assert.equal(r["importedEnv"], "hi");
    assert.equal(r["tarballName"], "image.tar");
    assert.equal(r["tarballSize"], (await fs.stat(r.exported)).size, "asTarball and export write the same archive");
    assert.equal(String(r["republishedImport"]).split("@")[1], r.published.split("@")[1], "an imported image publishes to the same digest");
    assert.match(r["notAnImage"] as string, /not an image archive: cannot read it as a tar/);
    assert.match(r["notAnImageTar"] as string, /not an image archive: no index\.json .* or manifest\.json .*; it holds "etc\/passwd", "bin\/busybox"/);

    // The pushed image shares its base layer's blob with busybox, and has one layer per snapshot.
    const base = await manifestOf(registry, "busybox", "latest");
    const pushed = await manifestOf(registry, "tanto-out", "1");
    assert.equal(pushed.layers[0]!.digest, base.layers[0]!.digest, "the base layer's blob is reused, not recompressed");
    assert.equal(pushed.layers.length, 3, "busybox + withNewFile + withExec");
    const multi = await manifestOf(registry, "tanto-out", "multi");
    assert.equal(multi.manifests?.length, 2);

    const left = await leftovers(engine.root);
    assert.deepEqual(left.mounts, []);
  });

  test("docker loads and runs the export; a docker save imports into tanto", async (t) => {
    const r = exported();
    const dockerd = await startDockerd();
    if (typeof dockerd === "string") return t.skip(dockerd);
    try {
      const ids: string[] = [];
      for (const file of [r.exported, r.exportedDocker, r.exportedMulti]) {
        const load = await dockerd.docker(["load", "-i", file]);
        assert.equal(load.code, 0, `docker load ${file}: ${load.stderr}`);
        const id = /Loaded image ID: (sha256:[a-f0-9]{64})/.exec(load.stdout)?.[1];
        assert.ok(id, load.stdout);
        ids.push(id);
      }
      const hi = await dockerd.docker(["run", "--rm", "--network", "none", "--entrypoint", "echo", ids[0]!, "hi"]);
      assert.equal(hi.code, 0, hi.stderr);
      assert.equal(hi.stdout, "hi\n");
      const byDefault = await dockerd.docker(["run", "--rm", "--network", "none", ids[0]!]);
      assert.equal(byDefault.stdout, "hello from tanto\n", "entrypoint and default args as set through the SDK");

      await dockerd.docker(["tag", ids[0]!, "saved:1"]);
      const saved = path.join(work, "saved.tar");
      const save = await dockerd.docker(["save", "-o", saved, "saved:1"]);
      assert.equal(save.code, 0, save.stderr);
      const imported = await sdk(["import", saved]);
      assert.equal(imported["stdout"], "imported\n");
      assert.ok((imported["env"] as string[]).includes("GREETING=hi"));
    } finally {
      await dockerd.stop();
    }
  });

  test("podman loads the export", async (t) => {
    const r = exported();
    if (!which("podman")) return t.skip("podman is not installed");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-podman-"));
    const podman = (args: string[]) =>
      run(["podman", "--root", path.join(dir, "root"), "--runroot", path.join(dir, "runroot"), "--cgroup-manager=cgroupfs", "--events-backend=file", ...args]);
    try {
      for (const file of [r.exported, r.exportedDocker, r.exportedZstd]) {
        const load = await podman(["load", "-i", file]);
        assert.equal(load.code, 0, `podman load ${file}: ${load.stderr}`);
        assert.match(load.stdout, /Loaded image/);
      }
      const images = await podman(["images", "--format", "{{.ID}}"]);
      assert.equal(images.code, 0, images.stderr);
      const ids = [...new Set(images.stdout.trim().split("\n"))];
      assert.equal(ids.length, 1, `the three exports are one image: ${images.stdout}`);
      const config = await podman(["image", "inspect", "--format", "{{json .Config.Entrypoint}}", ids[0]!]);
      assert.equal(config.stdout.trim(), '["sh","-c"]');
    } finally {
      await podman(["rmi", "-a", "-f"]);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("skopeo inspects the published image", async (t) => {
    const r = exported();
    if (!which("skopeo")) return t.skip("skopeo is not installed (Debian package skopeo)");
    const name = r.published.split("@")[0]!;
    const inspect = await run(["skopeo", "inspect", "--tls-verify=false", `docker://${name}`]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[]; Env: string[] };
    assert.equal(info.Digest, r.published.split("@")[1]);
    assert.equal(info.Layers.length, 3);
    assert.ok(info.Env.includes("GREETING=hi"));
    const multi = await run(["skopeo", "inspect", "--tls-verify=false", "--raw", `docker://${registry}/tanto-out:multi`]);
    assert.equal(multi.code, 0, multi.stderr);
    assert.equal((JSON.parse(multi.stdout) as { mediaType: string }).mediaType, "application/vnd.oci.image.index.v1+json");
  });
});
