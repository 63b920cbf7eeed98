/**
 * Every platform through the official SDK on this (amd64) machine: execs of
 * other architectures under Debian's qemu-user-static (registered with
 * binfmt_misc by the engine), results cached per platform, a three-platform
 * image published and exported, then pulled back per platform by tanto and
 * by podman, a Dockerfile cross-built with `FROM --platform=$BUILDPLATFORM`,
 * and clear errors for platforms that cannot run.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { type MultiPlatformImage, multiPlatformBusybox, testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "platforms.mjs");
const UNAME: Record<string, string> = {
  "linux/amd64": "x86_64",
  "linux/arm64": "aarch64",
  "linux/arm/v7": "armv7l",
  "linux/riscv64": "riscv64",
  "linux/s390x": "s390x",
  "linux/ppc64le": "ppc64le",
  // 32-bit x86 runs natively: the kernel reports its own machine, as under Docker (runc sets no personality).
  "linux/386": "x86_64",
};
const ELF_CLASS: Record<string, string> = { "linux/arm/v7": "1", "linux/386": "1" };

const DOCKERFILE = `ARG BASE
FROM --platform=$BUILDPLATFORM $BASE AS build
ARG TARGETARCH
ARG TARGETPLATFORM
ARG BUILDPLATFORM
RUN echo "built on $(uname -m) for $TARGETARCH ($TARGETPLATFORM from $BUILDPLATFORM)" > /msg
FROM $BASE
COPY --from=build /msg /msg
RUN uname -m > /arch
`;

describe("platforms", { skip: process.arch !== "x64" && "these tests expect an amd64 host" }, () => {
  let engine: TestEngine;
  let registry: string;
  let multi: MultiPlatformImage;
  let env: NodeJS.ProcessEnv;
  let work: string;

  before(async () => {
    registry = await testRegistry();
    multi = await multiPlatformBusybox();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_MULTI_IMAGE: multi.ref, TANTO_TEST_REGISTRY: registry };
    work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-platforms-"));
    await fs.writeFile(path.join(work, "Dockerfile"), DOCKERFILE);
  });
  after(async () => {
    await engine?.destroy();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const program = async (mode: string): Promise<Record<string, unknown>> => {
    const r = await run([CLI, "run", "node", PROGRAM, mode], { env, cwd: work, timeoutMs: 240_000 });
    assert.equal(r.code, 0, `${mode}: ${r.stderr}\n--- engine ---\n${engine.logs().slice(-3000)}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  test("the engine registers emulators and reports what it runs", async () => {
    const stats = await engine.client.stats();
    assert.deepEqual(stats.platforms.slice(0, 2), ["linux/amd64", "linux/386"], "native first");
    for (const p of ["linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/riscv64", "linux/s390x", "linux/ppc64le"])
      assert.ok(stats.platforms.includes(p), `${p} in ${stats.platforms}`);
    const logs = engine.logs();
    const line = logs.split("\n").find((l) => l.includes(" platforms runnable="));
    assert.ok(line, `no platforms line in:\n${logs.slice(0, 3000)}`);
    for (const p of ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/riscv64", "linux/s390x", "linux/ppc64le", "linux/386"])
      assert.ok(line.includes(p), `${p} in ${line}`);
    const entry = fsEntry("qemu-aarch64") ?? fsEntry("qemu-aarch64-static");
    assert.ok(entry, "a binfmt_misc entry handles aarch64");
    assert.match(entry, /^flags: .*F/m, "registered with the fix-binary flag");
    assert.match(entry, /^flags: .*P/m, "registered keeping argv[0]");
  });

  test("uname -m on seven platforms, each its own cache entry, cached the second time", async () => {
    const before = await engine.client.stats();
    const out = await program("uname");
    assert.equal(out["defaultPlatform"], "linux/amd64");
    const platforms = out["platforms"] as Record<string, { uname: string; platform: string; file: string; elfClass: string }>;
    for (const [p, machine] of Object.entries(UNAME)) {
      assert.equal(platforms[p]?.uname, machine, `uname -m on ${p}`);
      assert.equal(platforms[p]?.elfClass, ELF_CLASS[p] ?? "2", `the ${p} binary ran`);
      assert.equal(platforms[p]?.file, machine, `a file written on ${p}`);
      // Dagger spells arm64 without its implied v8; both name the same platform.
      assert.match(platforms[p]!.platform, new RegExp(`^${p}${p === "linux/arm64" ? "(/v8)?" : ""}$`));
    }
    const first = await engine.client.stats();
    assert.ok((first.executed["exec"] ?? 0) - (before.executed["exec"] ?? 0) >= 7, "one exec per platform ran");

    const again = await program("uname");
    assert.deepEqual(again, out);
    const second = await engine.client.stats();
    assert.equal(second.executed["exec"] ?? 0, first.executed["exec"] ?? 0, "the second run ran no exec");
    assert.ok(second.cacheHits > first.cacheHits);
  });

  test("a three-platform publish and export, pulled and imported back per platform", async (t) => {
    const out = await program("images");
    const published = String(out["published"]);
    assert.match(published, new RegExp(`^${registry}/tanto-platforms:1@sha256:[a-f0-9]{64}$`));
    const pulled = out["pulled"] as Record<string, { arch: string; uname: string; env: string }>;
    const imported = out["imported"] as Record<string, { arch: string; uname: string; platform: string }>;
    for (const p of ["linux/amd64", "linux/arm64", "linux/riscv64"]) {
      assert.deepEqual(pulled[p], { arch: UNAME[p], uname: UNAME[p], env: p }, `pulled ${p}`);
      assert.equal(imported[p]?.arch, UNAME[p], `imported ${p}`);
      assert.equal(imported[p]?.uname, UNAME[p], `imported ${p} runs`);
    }
    const index = (await (
      await fetch(`http://${registry}/v2/tanto-platforms/manifests/1`, { headers: { accept: "application/vnd.oci.image.index.v1+json" } })
    ).json()) as { mediaType: string; manifests: Array<{ platform: { architecture: string } }> };
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      index.manifests.map((m) => m.platform.architecture),
      ["amd64", "arm64", "riscv64"],
    );

    // Docker media types: a manifest list, as skopeo reads it; and one platform's image through it.
    if (existsSync("/usr/bin/skopeo")) {
      const dockerRef = `docker://${registry}/tanto-platforms:docker`;
      const raw = await run(["skopeo", "inspect", "--raw", "--tls-verify=false", dockerRef]);
      assert.equal(raw.code, 0, raw.stderr);
      const list = JSON.parse(raw.stdout) as { mediaType: string; manifests: Array<{ mediaType: string; platform: { architecture: string } }> };
      assert.equal(list.mediaType, "application/vnd.docker.distribution.manifest.list.v2+json");
      assert.deepEqual(
        list.manifests.map((m) => [m.mediaType, m.platform.architecture]),
        ["amd64", "arm64", "riscv64"].map((a) => ["application/vnd.docker.distribution.manifest.v2+json", a]),
      );
      const arm = await run(["skopeo", "--override-arch", "riscv64", "inspect", "--tls-verify=false", dockerRef]);
      assert.equal(arm.code, 0, arm.stderr);
      assert.equal((JSON.parse(arm.stdout) as { Architecture: string }).Architecture, "riscv64");
    }

    if (!existsSync("/usr/bin/podman")) return t.skip("podman is not installed");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-podman-"));
    const podman = (args: string[]) =>
      run(["podman", "--root", path.join(dir, "root"), "--runroot", path.join(dir, "runroot"), "--cgroup-manager=cgroupfs", "--events-backend=file", ...args], {
        timeoutMs: 120_000,
      });
    try {
      const ref = `${registry}/tanto-platforms:1`;
      for (const p of ["linux/amd64", "linux/arm64", "linux/riscv64"]) {
        const pull = await podman(["pull", "--tls-verify=false", "--platform", p, ref]);
        assert.equal(pull.code, 0, `podman pull --platform ${p}: ${pull.stderr}`);
        const ran = await podman([
          "run",
          "--rm",
          "--network=none",
          "--ulimit",
          "nofile=20000:20000",
          "--ulimit",
          "nproc=32768:32768",
          "--platform",
          p,
          ref,
          "sh",
          "-c",
          "cat /arch; uname -m",
        ]);
        assert.equal(ran.code, 0, `podman run --platform ${p}: ${ran.stderr}`);
        assert.equal(ran.stdout, `${UNAME[p]}\n${UNAME[p]}\n`, `podman run --platform ${p}: ${ran.stderr}`);
      }
    } finally {
      await podman(["rmi", "-a", "-f"]);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("Dockerfile: FROM --platform=$BUILDPLATFORM runs natively, TARGETARCH names the target", async () => {
    const out = (await program("build")) as Record<string, { msg: string; arch: string; platform: string }>;
    assert.equal(out["linux/arm64"]?.msg, "built on x86_64 for arm64 (linux/arm64 from linux/amd64)");
    assert.equal(out["linux/arm64"]?.arch, "aarch64");
    assert.match(out["linux/arm64"]!.platform, /^linux\/arm64(\/v8)?$/);
    assert.equal(out["linux/riscv64"]?.msg, "built on x86_64 for riscv64 (linux/riscv64 from linux/amd64)");
    assert.equal(out["linux/riscv64"]?.arch, "riscv64");
  });

  test("platforms that cannot run are clear errors", async () => {
    const out = await program("errors");
    assert.match(
      String(out["noEmulator"]),
      /cannot run a linux\/sparc64 container on this linux\/amd64 engine: no emulator is known for architecture "sparc64"\. It can run linux\/amd64, .*linux\/arm64/,
    );
    assert.match(String(out["notInImage"]), /no image for platform linux\/mips64le \(available: linux\/amd64, linux\/arm64/);
    assert.match(String(out["windows"]), /cannot run a windows\/amd64 container .*: it runs linux containers only/);
  });

  test("nothing left behind", async () => {
    await engine.stop();
    const left = await leftovers(engine.root);
    assert.deepEqual(left, { mounts: [], containers: [] });
  });
});

/** The text of /proc/sys/fs/binfmt_misc/<name>, if there is such an entry. */
function fsEntry(name: string): string | undefined {
  try {
    return readFileSync(path.join("/proc/sys/fs/binfmt_misc", name), "utf8");
  } catch {
    return undefined;
  }
}
