/**
 * What tanto is measured against: bare runc (the limit), and podman, docker and buildah (peers)
 * with their storage in the bench's directory where the tool allows it. A missing peer is
 * reported as {missing} and its rows are skipped with a note.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { REPO } from "./engine.mjs";
import { commandWorks, execFileP, NOFILE, stopChild, tail, timedRun } from "./util.mjs";

/**
 * A runc bundle for the same busybox rootfs the image carries: `runc spec` with only what must
 * change (the command, no terminal, an open-files limit this host allows).
 */
export async function prepareRuncBundle(dir) {
  const { busyboxRootfs } = await import(path.join(REPO, "dist/test/support/images.js"));
  const bundle = path.join(dir, "bundle");
  await fsp.mkdir(path.join(bundle, "rootfs"), { recursive: true });
  await busyboxRootfs(path.join(bundle, "rootfs"));
  await execFileP("runc", ["spec", "--bundle", bundle]);
  const configPath = path.join(bundle, "config.json");
  const spec = JSON.parse(await fsp.readFile(configPath, "utf8"));
  spec.process.args = ["true"];
  spec.process.terminal = false;
  // The same limit tanto's executor ends up asking for (its default, capped to the host's hard limit).
  spec.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: NOFILE, hard: NOFILE }];
  await fsp.writeFile(configPath, JSON.stringify(spec, null, 2));
  return bundle;
}

/**
 * A second bundle on the same rootfs whose config.json is the one tanto's executor writes for
 * `withExec(["true"])` (src/oci/runtime-spec.ts: Docker's capabilities, masked paths and
 * seccomp profile, tini as PID 1, no_new_privileges), with a new network namespace as `runc
 * spec`'s: what runc itself costs with tanto's settings, without the engine around it.
 */
export async function prepareTantoConfigBundle(dir, bareBundle) {
  const { generateSpec } = await import(path.join(REPO, "dist/src/oci/runtime-spec.js"));
  const { hostSeccompArchitectures } = await import(path.join(REPO, "dist/src/executor/host-seccomp.js"));
  const bundle = path.join(dir, "bundle-tanto-config");
  await fsp.mkdir(bundle, { recursive: true });
  const spec = generateSpec({
    rootfs: path.join(bareBundle, "rootfs"),
    args: ["true"],
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    cwd: "/",
    uid: 0,
    gid: 0,
    additionalGids: [],
    mounts: [],
    rlimitNofile: { soft: NOFILE, hard: NOFILE },
    network: "none",
    seccompArchitectures: hostSeccompArchitectures(),
    initPath: "/usr/bin/tini-static",
  });
  await fsp.writeFile(path.join(bundle, "config.json"), JSON.stringify(spec));
  return bundle;
}

/** podman's global flags: storage under `dir`/`name`, no systemd or journald. */
export function podmanBase(dir, name = "podman") {
  return [
    "--root",
    path.join(dir, name, "root"),
    "--runroot",
    path.join(dir, name, "run"),
    "--tmpdir",
    path.join(dir, name, "tmp"),
    "--storage-driver",
    "overlay",
    // No systemd or journald here.
    "--cgroup-manager=cgroupfs",
    "--events-backend=file",
  ];
}

/**
 * Each peer is {name, available(), prepare(), run(i), cleanup()}. Their own storage lives in
 * the bench's temporary directory where the tool allows it (podman), else the pulled image
 * is removed afterwards (docker, whose daemon owns its storage).
 */
export function podmanPeer(dir, image) {
  const base = podmanBase(dir);
  // podman asks for 1048576 open files by default, which this host's hard limit forbids.
  const runArgs = ["run", "--rm", "--network", "none", "--ulimit", `nofile=${NOFILE}:${NOFILE}`, "--ulimit", "nproc=32768:32768", image, "true"];
  return {
    name: "podman",
    available: () => commandWorks("podman", ["--version"]),
    missing: "podman is not installed",
    prepare: () => execFileP("podman", [...base, "pull", "--quiet", "--tls-verify=false", image]),
    run: () => timedRun("podman", [...base, ...runArgs]),
    cleanup: async () => {
      await execFileP("podman", [...base, "rmi", "--all", "--force"]).catch(() => undefined);
    },
  };
}

/**
 * A Docker daemon to compare with: the machine's own when one answers, else one started here
 * with all its state under `dir` and stopped by its PID at the end. That one runs with
 * `--iptables=false`: by default dockerd sets the host's FORWARD policy to DROP and leaves its
 * chains behind, which would outlive the bench. A container without published ports gets no
 * rules of its own either way, so its bridge setup costs the same. Its default bridge network
 * sits on a bridge device of the bench's own instead of docker0, which any other dockerd on
 * the host may claim or delete (one started with `--bridge=none` deletes docker0).
 * Returns {cmd, env} or {missing}.
 */
export async function ensureDocker(dir, cleanup) {
  if (await commandWorks("docker", ["info"])) return { cmd: "docker", env: process.env, started: false };
  if (!(await commandWorks("dockerd", ["--version"]))) return { missing: "docker is not installed" };
  const base = path.join(dir, "docker");
  await fsp.mkdir(base, { recursive: true });
  const sock = path.join(base, "docker.sock");
  const logFile = path.join(base, "dockerd.log");
  const bridge = await createBridge(cleanup);
  if (bridge.missing) return bridge;
  const out = fs.openSync(logFile, "a");
  const daemon = spawn(
    "dockerd",
    [
      "--data-root",
      path.join(base, "data"),
      "--exec-root",
      path.join(base, "exec"),
      "--pidfile",
      path.join(base, "dockerd.pid"),
      "-H",
      `unix://${sock}`,
      "--iptables=false",
      "--bridge",
      bridge.name,
    ],
    { stdio: ["ignore", out, out] },
  );
  fs.closeSync(out);
  cleanup.defer("dockerd", () => stopChild(daemon, 20_000));
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}` };
  // Debian's client matches Debian's daemon; a newer client elsewhere on PATH may not talk to it.
  const clients = ["/usr/bin/docker", "docker"];
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (daemon.exitCode !== null) return { missing: `dockerd exited (${daemon.exitCode}); see ${logFile}:\n${tail(logFile, 5)}` };
    for (const cmd of clients) {
      if (await commandWorks(cmd, ["info"], env)) return { cmd, env, started: true };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { missing: `dockerd did not answer within 30 s; see ${logFile}` };
}

/**
 * A Linux bridge for dockerd's default network, on a /24 of 172.31.0.0/16 that no host route
 * touches yet; removed at the end. Returns {name} or {missing}.
 */
async function createBridge(cleanup) {
  const name = `tbench${crypto.randomBytes(3).toString("hex")}`;
  const { stdout: routes } = await execFileP("ip", ["-4", "route"]);
  const third = [...Array(256).keys()].map((n) => (n + crypto.randomInt(256)) % 256).find((n) => !routes.includes(`172.31.${n}.`));
  if (third === undefined) return { missing: "no free /24 in 172.31.0.0/16 for a docker bridge" };
  await execFileP("ip", ["link", "add", name, "type", "bridge"]);
  cleanup.defer(`bridge ${name}`, () => execFileP("ip", ["link", "delete", name]));
  await execFileP("ip", ["addr", "add", `172.31.${third}.1/24`, "dev", name]);
  await execFileP("ip", ["link", "set", name, "up"]);
  return { name };
}

/**
 * `docker run --rm` with `--network none` (the like of tanto with loopback only) or on Docker's
 * default bridge (the like of tanto's pooled namespaces: an address, a gateway, DNS).
 */
export function dockerPeer(image, docker, { bridge }) {
  let pulled = false;
  const run = (args) => execFileP(docker.cmd, args, { env: docker.env });
  return {
    name: bridge ? "docker (bridge)" : "docker",
    available: async () => !docker.missing,
    missing: docker.missing,
    // Docker treats 127.0.0.0/8 registries as insecure (plain HTTP) by default.
    prepare: async () => {
      await run(["pull", "--quiet", image]);
      pulled = true;
    },
    run: () =>
      timedRun(docker.cmd, ["run", "--rm", ...(bridge ? [] : ["--network", "none"]), "--ulimit", `nofile=${NOFILE}:${NOFILE}`, image, "true"], docker.env),
    cleanup: async () => {
      if (pulled) await run(["rmi", "--force", image]).catch(() => undefined);
    },
  };
}

export async function dockerVersion(docker) {
  const { stdout } = await execFileP(docker.cmd, ["version", "--format", "{{.Server.Version}}"], { env: docker.env });
  return stdout.trim();
}

/**
 * buildah with its own storage under `dir` (push only needs the storage flags), or {missing}.
 * Its blob-info cache is the machine's (/var/lib/containers/cache): buildah has no flag for it.
 */
export async function buildahTool(dir, cleanup) {
  if (!(await commandWorks("buildah", ["--version"]))) return { missing: "buildah is not installed (apt-get install buildah)" };
  const base = ["--root", path.join(dir, "buildah", "root"), "--runroot", path.join(dir, "buildah", "run"), "--storage-driver", "overlay"];
  cleanup.defer("buildah images", () => execFileP("buildah", [...base, "rmi", "--all", "--force"]).catch(() => undefined));
  return { base, run: (args) => execFileP("buildah", [...base, ...args]) };
}

/** `runc run` deletes its container on exit; this catches the ones an interrupted run left. */
export async function deleteRuncContainers(runcRoot) {
  if (!fs.existsSync(runcRoot)) return;
  const { stdout } = await execFileP("runc", ["--root", runcRoot, "list", "--quiet"]);
  for (const id of stdout.split("\n").filter(Boolean)) await execFileP("runc", ["--root", runcRoot, "delete", "--force", id]);
}
