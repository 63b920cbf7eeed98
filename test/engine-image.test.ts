/**
 * The engine image, end to end: tanto builds it (engine-image/build.mjs, the
 * official SDK on an engine on this host), `docker load` takes it, and it
 * runs privileged with a state volume in a private dockerd (hack/dockerd);
 * the official SDK then drives it through docker-container://, across a
 * `docker restart` that must keep its cache. Also: the tools the engine needs
 * all run inside it, a second build with no change is fully cached,
 * docker-image:// starts an engine container by itself, and hack/dev is
 * idempotent. Modules (TypeScript, Python, Go) run on it from sources on this
 * host (test/support/remote-modules.ts), with this host's package-index
 * settings and CA given to the container as an operator would.
 *
 * The engine container runs with `--network host`: the test registry listens
 * on this host's 127.0.0.1, which a container only reaches from the host's
 * network namespace. The engine therefore makes its own CNI bridge on the host,
 * so it gets a network name and subnet of its own (like every test engine).
 *
 * Slow (minutes): the Debian base is made by mmdebstrap once (~45s) and kept
 * in ~/.cache/tanto (TANTO_CACHE_DIR), shared by later runs.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { VERSION } from "../src/version.js";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { pushBusybox } from "./support/images.js";
import { modulesThroughRemoteEngine, packageIndexFlags } from "./support/remote-modules.js";

const PROGRAM = path.join(REPO, "test", "sdk", "engine-image.mjs");
// Plain JavaScript run by tanto, outside the TypeScript build.
const { cacheDir, baseRecipeHash } = (await import(path.join(REPO, "engine-image", "base.mjs"))) as { cacheDir(): string; baseRecipeHash(): string };
const BUILD = path.join(REPO, "engine-image", "build.mjs");
const HACK = path.join(REPO, "hack");
const MINUTES = 60_000;

interface Stats {
  executed: Record<string, number>;
  cacheHits: number;
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir && existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return undefined;
}

/** Why this machine cannot run the test, if it cannot. */
function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (dockerd, a privileged container)";
  if (!which("dockerd") || !which("docker")) return "dockerd or docker is not installed (Debian package docker.io)";
  const base = path.join(cacheDir(), `engine-base-${baseRecipeHash()}.tar`);
  if (!existsSync(base) && !which("mmdebstrap")) return "mmdebstrap is not installed and no engine base is cached (apt-get install mmdebstrap)";
  return undefined;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The op kinds that do work; a fully cached build runs none of them. */
const WORK_KINDS = ["exec", "file", "image", "image-import"];
const work = (s: Stats): Record<string, number> => Object.fromEntries(WORK_KINDS.map((k) => [k, s.executed[k] ?? 0]));

const skip = missingPrerequisite();

describe("the engine image", { skip: skip ?? false, timeout: 30 * MINUTES }, () => {
  const id = randomBytes(3).toString("hex");
  const image = `localhost/tanto-engine.test-${id}:latest`;
  const container = `tanto-engine-test-${id}`;
  const volume = `tanto-engine-test-${id}`;
  let registry: string;
  let builder: TestEngine;
  let dir: string;
  let dockerDir: string;
  let dockerEnv: NodeJS.ProcessEnv;
  let dockerSkip: string | undefined;
  let tarball: string;
  let firstBuild: { bytes: number; seconds: number; base: { cached: boolean; seconds: number } } | undefined;

  const docker = (args: string[], timeoutMs = 2 * MINUTES) => run(["docker", ...args], { env: dockerEnv, timeoutMs });
  const dockerOk = async (args: string[], timeoutMs?: number): Promise<string> => {
    const r = await docker(args, timeoutMs);
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  };
  // Other engineers edit src/ while this runs: the second build reuses the
  // first one's bundle, so "no source change" holds.
  const build = async (opts: { reuseStage?: boolean } = {}): Promise<{ bytes: number; seconds: number; base: { cached: boolean; seconds: number } }> => {
    const argv = [
      CLI,
      "run",
      "node",
      BUILD,
      "--output",
      tarball,
      "--tag",
      image,
      "--stage",
      path.join(dir, "stage"),
      ...(opts.reuseStage ? ["--reuse-stage"] : []),
    ];
    const r = await run(argv, { env: builder.env, timeoutMs: 10 * MINUTES });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as { bytes: number; seconds: number; base: { cached: boolean; seconds: number } };
  };
  /** Stats of the engine in the container, through the runner host. */
  const containerStats = async (): Promise<Stats> => {
    const res = await run([CLI, "engine", "stats"], { env: { ...dockerEnv, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-container://${container}` } });
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as Stats;
  };
  const waitHealthy = async (name: string): Promise<void> => {
    const deadline = Date.now() + MINUTES;
    for (;;) {
      const r = await run([CLI, "version"], { env: { ...dockerEnv, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-container://${name}` } });
      if (r.code === 0 && /^engine /m.test(r.stdout)) return;
      if (Date.now() > deadline) {
        const logs = await docker(["logs", "--tail", "30", name]);
        assert.fail(`the engine in ${name} did not answer: ${r.stdout}${r.stderr}\n${logs.stdout}${logs.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  before(async () => {
    registry = await testRegistry();
    builder = await startEngine({ registry });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-engine-image-"));
    tarball = path.join(dir, "engine.tar");
    // A short path: dockerd's containerd socket lives below it (108-byte limit).
    dockerDir = await fs.mkdtemp(path.join(os.tmpdir(), "tdk-"));
    const started = await run([path.join(HACK, "dockerd"), "start", dockerDir], { timeoutMs: 2 * MINUTES });
    const host = /^DOCKER_HOST=(.+)$/m.exec(started.stdout)?.[1];
    if (started.code !== 0 || !host) dockerSkip = `dockerd did not start: ${started.stderr.slice(-1000)}`;
    dockerEnv = { ...process.env, DOCKER_HOST: host ?? "" };
  });

  /**
   * Stop the host-network engine with SIGTERM and wait: it then removes its
   * bridge and iptables rules from this host (a SIGKILL would leave them).
   */
  const stopContainer = async (): Promise<void> => {
    await docker(["stop", "-t", "60", container], 2 * MINUTES);
    await docker(["rm", "-f", container]);
  };

  after(async () => {
    if (dockerEnv?.["DOCKER_HOST"]) {
      await stopContainer();
      await docker(["volume", "rm", "-f", volume]);
    }
    if (dockerDir) {
      const r = await run([path.join(HACK, "dockerd"), "purge", dockerDir], { timeoutMs: 2 * MINUTES });
      if (r.code !== 0) process.stderr.write(`hack/dockerd purge ${dockerDir}: ${r.stderr}\n`);
    }
    await builder?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test("tanto builds the image; a second build with no change is fully cached", { timeout: 15 * MINUTES }, async () => {
    firstBuild = await build();
    process.stderr.write(
      `engine image: ${firstBuild.bytes} bytes, first build ${firstBuild.seconds}s (base ${firstBuild.base.cached ? "cached" : `${firstBuild.base.seconds}s`})\n`,
    );
    const digest = await sha256File(tarball);
    const before = await builder.client.stats();

    const second = await build({ reuseStage: true });
    const afterStats = await builder.client.stats();
    process.stderr.write(`engine image: second build ${second.seconds}s\n`);
    assert.deepEqual(work(afterStats), work(before), "the second build ran nothing");
    assert.ok(afterStats.cacheHits > before.cacheHits);
    assert.equal(await sha256File(tarball), digest, "the same image, byte for byte");
  });

  test("docker load, run privileged with a state volume; the tools run inside", { timeout: 5 * MINUTES }, async (t) => {
    if (dockerSkip) return t.skip(dockerSkip);
    assert.ok(firstBuild, "the image was built");
    assert.match(await dockerOk(["load", "-i", tarball], 5 * MINUTES), new RegExp(`Loaded image: ${image}`));
    const config = path.join(dir, "engine.toml");
    await fs.writeFile(config, `[registry."docker.io"]\nmirrors = ["${registry}"]\n[registry."${registry}"]\nhttp = true\n`);
    const r = randomBytes(2);
    await dockerOk([
      "run",
      "-d",
      "--privileged",
      "--network",
      "host",
      "-v",
      `${volume}:/var/lib/tanto`,
      "-v",
      `${config}:/etc/tanto/engine.toml:ro`,
      ...(await packageIndexFlags()),
      "--name",
      container,
      image,
      "--debug",
      "--network-name",
      `ti${id}`,
      "--network-cidr",
      `10.${200 + (r[0]! % 50)}.${r[1]}.0/24`,
    ]);
    await waitHealthy(container);

    const tools: string[][] = [
      ["runc", "--version"],
      ["tini", "--version"],
      ["dnsmasq", "--version"],
      ["git", "--version"],
      ["ssh", "-V"],
      ["xz", "--version"],
      ["iptables", "--version"],
      ["ip6tables", "--version"],
      ["qemu-aarch64", "--version"],
      ["node", "--version"],
      ["tanto", "version"],
    ];
    for (const argv of tools) {
      const res = await docker(["exec", container, ...argv]);
      assert.equal(res.code, 0, `${argv.join(" ")}: ${res.stderr}`);
    }
    assert.equal((await dockerOk(["exec", container, "tanto", "version"])).trim(), `tanto ${VERSION}`);
    for (const plugin of ["bridge", "loopback", "firewall", "host-local"]) {
      const res = await docker(["exec", "-e", "CNI_COMMAND=VERSION", container, `/opt/cni/bin/${plugin}`]);
      assert.equal(res.code, 0, `${plugin}: ${res.stderr}`);
      assert.match(res.stdout, /"supportedVersions"/, plugin);
    }
    const layout = await dockerOk([
      "exec",
      container,
      "sh",
      "-c",
      "ls -d /usr/local/share/tanto /var/lib/tanto /etc/tanto/engine.toml /usr/local/bin/tanto-engine /usr/local/bin/tanto-entrypoint.sh && readlink /usr/local/bin/qemu-riscv64 && tar -tf /usr/local/share/tanto/typescript-runtime.tar index.json && echo python: && tar -tf /usr/local/share/tanto/python-runtime.tar index.json && echo go: && tar -tf /usr/local/share/tanto/go-runtime.tar index.json && ls /usr/local/lib/tanto/bundle/engine/daemon.cjs /usr/local/lib/tanto/bundle/cli/main.cjs /usr/local/lib/tanto/bundle/cli/program.cjs /usr/local/share/tanto/go-codegen/main.go",
    ]);
    assert.match(layout, /qemu-riscv64-static/);
    assert.match(layout, /^index\.json\npython:$/m, "the TypeScript module runtime's base image is carried");
    assert.match(layout, /^python:\nindex\.json\ngo:$/m, "the Python module runtime's base image is carried");
    assert.match(layout, /^go:\nindex\.json$/m, "the Go module runtime's base image is carried");
    // The engine's bundle carries the three SDK runtimes; the command line is bundled beside it.
    for (const bundle of ["engine/daemon.cjs", "cli/main.cjs", "cli/program.cjs"])
      assert.match(layout, new RegExp(`^/usr/local/lib/tanto/bundle/${bundle.replace(".", "\\.")}$`, "m"), `${bundle} is in the image`);
  });

  test("the SDK drives it through docker-container://, and its cache survives docker restart", { timeout: 10 * MINUTES }, async (t) => {
    if (dockerSkip) return t.skip(dockerSkip);
    const src = path.join(dir, "src");
    await fs.mkdir(src, { recursive: true });
    await fs.writeFile(path.join(src, "greeting.txt"), "hello from the client\n");
    const env = { ...dockerEnv, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-container://${container}` };
    const pipeline = async (how: "tanto run" | "CLI bin", exportName: string): Promise<{ stdout: string; exported: string }> => {
      const exportPath = path.join(dir, exportName);
      const argv = how === "tanto run" ? [CLI, "run", "node", PROGRAM, src, exportPath] : ["node", PROGRAM, src, exportPath];
      const res = await run(argv, { env: how === "tanto run" ? env : { ...env, _EXPERIMENTAL_DAGGER_CLI_BIN: CLI }, cwd: dir, timeoutMs: 5 * MINUTES });
      assert.equal(res.code, 0, res.stderr.slice(-4000));
      assert.equal(await fs.readFile(exportPath, "utf8"), "made in the engine image\n");
      return JSON.parse(res.stdout.trim().split("\n").pop()!) as { stdout: string; exported: string };
    };

    const first = await pipeline("tanto run", "out-1.txt");
    assert.equal(first.stdout, "hello from the client\nLinux\n");
    const ran = await containerStats();
    assert.ok((ran.executed["exec"] ?? 0) >= 1, `the exec ran: ${JSON.stringify(ran)}`);

    await dockerOk(["restart", container], 2 * MINUTES);
    await waitHealthy(container);
    // This time the SDK starts the session itself (`tanto session`, as with hack/dev).
    const second = await pipeline("CLI bin", "out-2.txt");
    assert.equal(second.stdout, first.stdout);
    const cached = await containerStats();
    assert.equal(cached.executed["exec"] ?? 0, 0, `nothing ran after the restart: ${JSON.stringify(cached)}`);
    assert.ok(cached.cacheHits >= 1, JSON.stringify(cached));
  });

  test("modules through docker-container://: init, functions and call for TypeScript, Python and Go", { timeout: 15 * MINUTES }, async (t) => {
    if (dockerSkip) return t.skip(dockerSkip);
    // The starters' image: busybox has the echo and grep they run.
    await pushBusybox(registry, ["library/alpine:latest"]);
    const modules = path.join(dir, "modules");
    await fs.mkdir(modules);
    const timings: string[] = [];
    try {
      await modulesThroughRemoteEngine({
        env: { ...dockerEnv, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-container://${container}` },
        dir: modules,
        existsInEngine: async (p) => (await docker(["exec", container, "test", "-e", p])).code === 0,
        timings,
        timeoutMs: 10 * MINUTES,
      });
    } finally {
      process.stderr.write(`modules through docker-container://:\n  ${timings.join("\n  ")}\n`);
    }
  });

  test("docker-image:// starts an engine container when none of the image runs", { timeout: 5 * MINUTES }, async (t) => {
    if (dockerSkip) return t.skip(dockerSkip);
    // The container from the tests above runs this image: stop it so that one is started.
    await stopContainer();
    assert.equal(existsSync(`/sys/class/net/ti${id}0`), false, "the engine removed its bridge from the host when it stopped");
    const env = { ...dockerEnv, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-image://${image}` };
    const res = await run([CLI, "query", "{ version }"], { env, timeoutMs: 3 * MINUTES });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /"version": "/);
    const started = (await dockerOk(["ps", "--filter", `ancestor=${image}`, "--format", "{{.Names}} {{.Mounts}}"])).trim().split("\n");
    assert.equal(started.length, 1, started.join("\n"));
    assert.match(started[0]!, /^tanto-engine-[0-9a-f]{12} tanto-engine/);
    // Again: the same container answers.
    const again = await run([CLI, "query", "{ version }"], { env, timeoutMs: MINUTES });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await dockerOk(["ps", "-q", "--filter", `ancestor=${image}`])).trim().split("\n").length, 1);
    await dockerOk(["rm", "-f", started[0]!.split(" ")[0]!]);
    await docker(["volume", "rm", "-f", "tanto-engine"]);
  });

  test("hack/dev builds, replaces the container and runs a command against it; twice", { timeout: 10 * MINUTES }, async (t) => {
    if (dockerSkip) return t.skip(dockerSkip);
    const env = {
      ...dockerEnv,
      TANTO_DEV_BUILD_HOST: builder.env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"],
      TANTO_DEV_OUTPUT: path.join(dir, "dev-engine.tar"),
    };
    for (const round of [1, 2]) {
      const res = await run([path.join(HACK, "dev"), "tanto", "version"], { env, timeoutMs: 5 * MINUTES });
      assert.equal(res.code, 0, `round ${round}: ${res.stderr.slice(-3000)}`);
      assert.match(res.stdout, /^engine \S+ at docker-container:\/\/tanto-engine\.dev$/m, `round ${round}`);
    }
    const containers = (await dockerOk(["ps", "-a", "--filter", "name=^/tanto-engine.dev$", "--format", "{{.Names}} {{.State}}"])).trim();
    assert.equal(containers, "tanto-engine.dev running");
    await docker(["rm", "-f", "tanto-engine.dev"]);
  });
});
