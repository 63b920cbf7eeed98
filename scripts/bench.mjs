#!/usr/bin/env node
/**
 * `npm run bench`: tanto's performance figures, in one run, as one table.
 *
 *   1. uncached withExec(true) through a session (each exec in a pooled network namespace),
 *      against the same through a second engine with networking off (loopback only), bare
 *      `runc run` of the same rootfs, and `podman run` / `docker run` (with and without
 *      Docker's default bridge) when they are installed and usable, all interleaved;
 *   2. a cached 20-step withExec chain through the official SDK (`await chain.stdout()`);
 *   3. a client directory of 10,000 files / 200 MB through `host().directory()`: the first
 *      sync, then the unchanged tree again from a new session;
 *   4. `publish` of an image with a fresh 50 MB layer against `buildah push` of the same image;
 *   5. engine cold start to the first answered query, on an existing root;
 *   6. the engine's resident memory after startup and after the benchmarks plus 2 s idle;
 *   7. emulated linux/arm64: an uncached withExec(true) and an uncached 20-step chain against
 *      the same on linux/amd64 and against `podman run --platform linux/arm64` (same qemu);
 *      see scripts/bench-platforms.mjs. `--only platforms` runs just these rows;
 *   8. modules: for each SDK runtime (TypeScript, Python, Go), the first `tanto call` of a fresh
 *      module on a warm engine, and the same call cached against the same pipeline as a plain SDK
 *      script; see scripts/bench-modules.mjs. `--only modules` runs just these rows.
 *   9. the remote cache: a 20-step chain on an empty engine answered from another engine's export
 *      to the registry vs run from scratch, and the export time (scripts/bench-remote-cache.mjs,
 *      `--only remote-cache`).
 *
 * Everything runs against a private registry and a private engine root in a temporary
 * directory, so the figures do not depend on (or disturb) whatever else runs on the machine,
 * and everything created is removed at the end, also on failure or Ctrl-C.
 *
 * Needs root (runc, overlay mounts) and a built tree (`npm run build`). When no Docker daemon
 * answers, one is started for the run (storage in the temporary directory, `--iptables=false`
 * so that the host's firewall is left as it was) and stopped at the end.
 * Options: --iterations N (default 20), --starts N (default 5), --sync-runs N and
 * --publish-runs N (default 3 each), --platform-chain-runs N (default 3), --module-first-runs N
 * (fresh modules per SDK, default 2), --cache-runs N (default 3),
 * --only platforms|tracing|modules|startup|remote-cache,
 * --json FILE (default .tmp/bench.json).
 * Progress goes to stderr; the table to stdout.
 */
import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { benchModules, moduleRows } from "./bench-modules.mjs";
import { benchPlatforms, platformRows } from "./bench-platforms.mjs";
import { benchRemoteCache, remoteCacheRows } from "./bench-remote-cache.mjs";
import { benchTracing, tracingRows } from "./bench-tracing.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TANTO = path.join(REPO, "bin", "tanto");
/** What node runs: bin/tanto is a sh launcher, and spawning node itself keeps the engine's PID ours. */
const TANTO_JS = path.join(REPO, "dist", "src", "cli", "main.js");
const execFileP = promisify(execFile);

const { values: opts } = parseArgs({
  options: {
    iterations: { type: "string", default: "20" },
    starts: { type: "string", default: "5" },
    "sync-runs": { type: "string", default: "3" },
    "publish-runs": { type: "string", default: "3" },
    "platform-chain-runs": { type: "string", default: "3" },
    "module-first-runs": { type: "string", default: "2" },
    "cache-runs": { type: "string", default: "3" },
    only: { type: "string" },
    json: { type: "string", default: path.join(REPO, ".tmp", "bench.json") },
  },
});
const ITERATIONS = positiveInt(opts.iterations, "--iterations");
const STARTS = positiveInt(opts.starts, "--starts");
const SYNC_RUNS = positiveInt(opts["sync-runs"], "--sync-runs");
const PUBLISH_RUNS = positiveInt(opts["publish-runs"], "--publish-runs");
const PLATFORM_CHAIN_RUNS = positiveInt(opts["platform-chain-runs"], "--platform-chain-runs");
const MODULE_FIRST_RUNS = positiveInt(opts["module-first-runs"], "--module-first-runs");
const CACHE_RUNS = positiveInt(opts["cache-runs"], "--cache-runs");
const ONLY = ["platforms", "tracing", "modules", "startup", "remote-cache"];
if (opts.only !== undefined && !ONLY.includes(opts.only)) throw new Error(`--only: want one of ${ONLY.join(", ")}, not ${JSON.stringify(opts.only)}`);
const CHAIN_STEPS = 20;
/** The client directory: SYNC_DIRS × SYNC_FILES_PER_DIR files of SYNC_FILE_BYTES random bytes (200 MB). */
const SYNC_DIRS = 100;
const SYNC_FILES_PER_DIR = 100;
const SYNC_FILE_BYTES = 20_000;
/** The layer a publish uploads; random, so that gzip cannot shrink it and no registry has it. */
const PUBLISH_LAYER_MB = 50;
/** Discarded runs before each timed series: the first ones pay for page cache, JIT and lazy setup. */
const WARMUP = 2;
/** The host's hard RLIMIT_NOFILE; runc cannot raise a container's limit above it (no CAP_SYS_RESOURCE here). */
const NOFILE = 20000;

const GOALS = {
  execRatio: 1.5, // tanto / runc for one uncached exec
  networkRatio: 1.3, // tanto with a pooled namespace / tanto with loopback only
  dockerBridgeRatio: 0.3, // tanto (pooled namespace) / docker run on its default bridge
  syncRatio: 0.1, // unchanged directory from a new session / first sync (i.e. ≥10× faster)
  publishRatio: 1.0, // tanto publish / buildah push
  cachedChainMs: 50,
  tracingRatio: 1.05, // uncached 20-step chain with spans exported over OTLP / without
  remoteCacheRatio: 0.5, // 20-step chain on an empty engine from a remote cache / from scratch
  coldStartMs: 300,
  idleRssMb: 80,
};

const log = (line) => process.stderr.write(`bench: ${line}\n`);

/**
 * Ctrl-C aborts this; every loop checks it between runs. Cleaning up while a loop still runs
 * would race it (an image cannot be removed while a container from it runs, and the loop
 * would start new ones), so the run unwinds first and cleans up in `finally`.
 */
const interrupt = new AbortController();
const checkInterrupted = () => interrupt.signal.throwIfAborted();

// ---------------------------------------------------------------------------------------------
// Cleanup: every resource registers its undo as soon as it exists; they run in reverse order.

class Cleanup {
  #undo = [];
  defer(what, fn) {
    this.#undo.push({ what, fn });
  }
  async run() {
    while (this.#undo.length > 0) {
      const { what, fn } = this.#undo.pop();
      try {
        await fn();
      } catch (err) {
        log(`cleanup of ${what} failed: ${err?.message ?? err}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function positiveInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} wants a positive integer, got "${text}"`);
  return n;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile: a value that was actually observed. */
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

function summarize(samples) {
  return { median: round(median(samples)), p90: round(percentile(samples, 90)), n: samples.length, samples: samples.map(round) };
}

const round = (x) => Math.round(x * 100) / 100;
const fmtMs = (x) => (x < 10 ? x.toFixed(1) : Math.round(x).toString());
const fmtSummary = (s, unit = "ms") => (s ? `${fmtMs(s.median)} / ${fmtMs(s.p90)} ${unit}` : "—");

// ---------------------------------------------------------------------------------------------
// Processes

/** Resolve when `child` has exited (immediately if it already has). */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; returns the exit code (null when killed by a signal). */
async function stopChild(child, graceMs = 10_000) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited(child);
    clearTimeout(timer);
  }
  return child.exitCode;
}

/** Run a command to completion and time it from spawn to exit; stdout is discarded, stderr kept for errors. */
function timedRun(cmd, args, env = process.env, cwd = undefined) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env, ...(cwd ? { cwd } : {}) });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr = (stderr + c).slice(-2000)));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

async function commandWorks(cmd, args, env = process.env) {
  try {
    await execFileP(cmd, args, { timeout: 10_000, env });
    return true;
  } catch {
    return false;
  }
}

/** VmRSS of a process in MB, from /proc (the kernel's own figure, no sampling tool needed). */
async function rssMb(pid) {
  const status = await fsp.readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return round(kb / 1024);
}

/** Mount points at or below `dir`, deepest first (the order they can be unmounted in). */
async function mountsUnder(dir) {
  const info = await fsp.readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m) => m && (m === dir || m.startsWith(dir + "/")))
    .sort((a, b) => b.length - a.length);
}

// ---------------------------------------------------------------------------------------------
// The engine and its sessions

/** Talk HTTP to the engine's unix socket directly: the timings must not include a CLI process start. */
function engineGet(socketPath, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method: "GET", agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString())) : reject(new Error(`GET ${urlPath}: ${res.statusCode}`)),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Start `tanto engine`; its stderr goes to `logFile` (read it when something fails). */
function startEngine({ root, configFile, socket, logFile }) {
  const out = fs.openSync(logFile, "a");
  try {
    // Spawn node itself (not the bin/tanto shebang through a shell) so that the PID is the engine's.
    return spawn(process.execPath, [TANTO_JS, "engine", "--root", root, "--config", configFile, "--addr", `unix://${socket}`], {
      stdio: ["ignore", out, out],
    });
  } finally {
    fs.closeSync(out);
  }
}

/** Poll /v1/health every `everyMs` until it answers; fail early if the engine exits. */
async function waitHealthy(engine, socket, { timeoutMs = 30_000, everyMs = 2, logFile }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (engine.exitCode !== null || engine.signalCode !== null) {
      throw new Error(`the engine exited (${engine.signalCode ?? engine.exitCode}) before answering; see ${logFile}:\n${tail(logFile)}`);
    }
    try {
      return await engineGet(socket, "/v1/health");
    } catch {
      if (performance.now() > deadline) throw new Error(`the engine did not answer within ${timeoutMs} ms; see ${logFile}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

function tail(file, n = 20) {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}

/**
 * A session the way the SDK gets one: `tanto session` as a child, its first stdout line is
 * `{port, session_token}`. Keep its stdin open (closing it ends the session) and send its
 * progress output to a file (an undrained pipe would block it).
 */
async function openSession({ socket, logFile, cwd = process.cwd() }) {
  const out = fs.openSync(logFile, "a");
  // `cwd` bounds what the engine may read of this machine through host().
  const child = spawn(process.execPath, [TANTO_JS, "session"], {
    cwd,
    stdio: ["pipe", "pipe", out],
    env: { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `unix://${socket}` },
  });
  fs.closeSync(out);
  const first = await new Promise((resolve, reject) => {
    let buf = "";
    const onData = (c) => {
      buf += c;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        child.stdout.off("data", onData);
        resolve(buf.slice(0, nl));
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.once("exit", (code) => reject(new Error(`tanto session exited (${code}) before printing its port; see ${logFile}:\n${tail(logFile)}`)));
    child.once("error", reject);
  });
  child.stdout.resume(); // nothing more is expected there; never let it fill up
  const { port, session_token: token } = JSON.parse(first);
  return { child, port, token, url: `http://127.0.0.1:${port}/query`, auth: "Basic " + Buffer.from(token + ":").toString("base64") };
}

/**
 * Run `fn` with the official SDK's global `dag` pointed at `session`, in this process: setting
 * DAGGER_SESSION_PORT/TOKEN is exactly what `tanto run` does for a child program, and the SDK
 * reads them anew on each `connection()`.
 */
async function withSdk(session, fn) {
  process.env.DAGGER_SESSION_PORT = String(session.port);
  process.env.DAGGER_SESSION_TOKEN = session.token;
  const { connection, dag } = await import("@dagger.io/dagger");
  let result;
  await connection(async () => {
    result = await fn(dag);
  });
  return result;
}

/** POST a GraphQL document to a session, as the SDK does; throws on any GraphQL error. */
async function query(session, document) {
  const res = await fetch(session.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: session.auth },
    body: JSON.stringify({ query: document }),
  });
  const body = await res.json();
  if (!res.ok || body.errors?.length) throw new Error(`query failed (${res.status}): ${JSON.stringify(body.errors ?? body)}\n  ${document}`);
  return body.data;
}

// ---------------------------------------------------------------------------------------------
// Baselines: bare runc, podman, docker

/**
 * A runc bundle for the same busybox rootfs the image carries: `runc spec` with only what must
 * change (the command, no terminal, an open-files limit this host allows).
 */
async function prepareRuncBundle(dir) {
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
 * Each peer is {name, available(), prepare(), run(i), cleanup()}. Their own storage lives in
 * the bench's temporary directory where the tool allows it (podman), else the pulled image
 * is removed afterwards (docker, whose daemon owns its storage).
 */
function podmanPeer(dir, image) {
  const base = [
    "--root",
    path.join(dir, "podman", "root"),
    "--runroot",
    path.join(dir, "podman", "run"),
    "--tmpdir",
    path.join(dir, "podman", "tmp"),
    "--storage-driver",
    "overlay",
    // No systemd or journald here.
    "--cgroup-manager=cgroupfs",
    "--events-backend=file",
  ];
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
async function ensureDocker(dir, cleanup) {
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
function dockerPeer(image, docker, { bridge }) {
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

// ---------------------------------------------------------------------------------------------
// The benchmarks

/**
 * 1. Uncached exec: tanto through a session on each engine (`engines`: {name, session, socket},
 * the pooled-network one and the loopback-only one) vs bare runc vs peers, interleaved so that
 * noise on the machine hits all of them alike. A new env value per iteration makes each
 * tanto exec a cache miss; each engine's counters confirm that every one of them ran.
 */
async function benchUncachedExec({ engines, image, bundle, runcRoot, peers }) {
  const nonce = `${process.pid}-${Date.now()}`;
  const tantoExec = (session) => async (i) => {
    const doc = `{ container { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${nonce}-${i}") { withExec(args: ["true"]) { exitCode } } } } }`;
    const t0 = performance.now();
    await query(session, doc);
    return performance.now() - t0;
  };
  const runcRun = (i) => timedRun("runc", ["--root", runcRoot, "run", "--bundle", bundle, `tanto-bench-${nonce}-${i}`]);

  const contenders = [
    ...engines.map((e) => ({ name: e.name, run: tantoExec(e.session) })),
    { name: "runc", run: runcRun },
    ...peers.map((p) => ({ name: p.name, run: p.run })),
  ];
  const samples = Object.fromEntries(contenders.map((c) => [c.name, []]));
  const before = await Promise.all(engines.map((e) => engineGet(e.socket, "/v1/stats")));
  for (let i = -WARMUP; i < ITERATIONS; i++) {
    for (const c of contenders) {
      checkInterrupted();
      const ms = await c.run(i);
      if (i >= 0) samples[c.name].push(ms);
    }
  }
  const executedExecs = {};
  for (const [k, e] of engines.entries()) {
    const after = await engineGet(e.socket, "/v1/stats");
    const executed = (after.executed?.exec ?? 0) - (before[k].executed?.exec ?? 0);
    if (executed !== ITERATIONS + WARMUP) log(`warning: expected ${ITERATIONS + WARMUP} uncached execs on ${e.name}, it counted ${executed}`);
    executedExecs[e.name] = executed;
  }
  return { samples, executedExecs };
}

/**
 * 2. A cached chain through the official SDK, in this process (see withSdk). Each `await chain.stdout()` sends the whole 20-step chain again; all of it must be cache hits.
 */
async function benchCachedChain({ session, socket, image }) {
  const samples = [];
  let executedWhileTimed = 0;
  await withSdk(session, async (dag) => {
    let chain = dag.container().from(image);
    for (let step = 0; step < CHAIN_STEPS; step++) chain = chain.withExec(["echo", `step ${step}`]);
    const warm = await chain.stdout(); // runs the 20 execs once
    if (warm.trim() !== `step ${CHAIN_STEPS - 1}`) throw new Error(`the chain printed ${JSON.stringify(warm)}`);
    for (let i = 0; i < WARMUP; i++) await chain.stdout();
    const before = await engineGet(socket, "/v1/stats");
    for (let i = 0; i < ITERATIONS; i++) {
      checkInterrupted();
      const t0 = performance.now();
      await chain.stdout();
      samples.push(performance.now() - t0);
    }
    const after = await engineGet(socket, "/v1/stats");
    executedWhileTimed = (after.executed?.exec ?? 0) - (before.executed?.exec ?? 0);
  });
  if (executedWhileTimed !== 0) log(`warning: the cached chain ran ${executedWhileTimed} execs while timed`);
  return { samples, executedWhileTimed };
}

/**
 * 3. A client directory through host().directory(): generated here (random bytes, so that no
 * run shares content with another), synced by a session of an engine that has never seen it,
 * then again, unchanged, by a NEW session, so that nothing the first session remembered can
 * help: only the engine's mirror of the client's tree can make the second one cheap.
 * `entries()` forces the sync (the directory's ID is resolved, and with it the whole tree).
 */
async function benchHostSync({ dir, socket }) {
  const clientDir = path.join(dir, "client");
  const first = [];
  const again = [];
  for (let run = 0; run < SYNC_RUNS; run++) {
    checkInterrupted();
    const name = `tree-${run}`;
    await writeRandomTree(path.join(clientDir, name));
    for (const samples of [first, again]) {
      // The session's working directory bounds what host() may read.
      const session = await openSession({ socket, logFile: path.join(dir, "session.log"), cwd: clientDir });
      try {
        samples.push(
          await withSdk(session, async (dag) => {
            const t0 = performance.now();
            const entries = await dag.host().directory(name).entries();
            const ms = performance.now() - t0;
            if (entries.length !== SYNC_DIRS) throw new Error(`host().directory("${name}") listed ${entries.length} entries, expected ${SYNC_DIRS}`);
            return ms;
          }),
        );
      } finally {
        await stopChild(session.child);
      }
    }
    await fsp.rm(path.join(clientDir, name), { recursive: true, force: true });
  }
  return { first, again };
}

/** SYNC_DIRS directories of SYNC_FILES_PER_DIR files of SYNC_FILE_BYTES random bytes each. */
async function writeRandomTree(root) {
  for (let d = 0; d < SYNC_DIRS; d++) {
    const sub = path.join(root, `d${d}`);
    await fsp.mkdir(sub, { recursive: true });
    await Promise.all(Array.from({ length: SYNC_FILES_PER_DIR }, (_, f) => fsp.writeFile(path.join(sub, `f${f}`), crypto.randomBytes(SYNC_FILE_BYTES))));
  }
}

/**
 * buildah with its own storage under `dir` (push only needs the storage flags), or {missing}.
 * Its blob-info cache is the machine's (/var/lib/containers/cache): buildah has no flag for it.
 */
async function buildahTool(dir, cleanup) {
  if (!(await commandWorks("buildah", ["--version"]))) return { missing: "buildah is not installed (apt-get install buildah)" };
  const base = ["--root", path.join(dir, "buildah", "root"), "--runroot", path.join(dir, "buildah", "run"), "--storage-driver", "overlay"];
  cleanup.defer("buildah images", () => execFileP("buildah", [...base, "rmi", "--all", "--force"]).catch(() => undefined));
  return { base, run: (args) => execFileP("buildah", [...base, ...args]) };
}

/**
 * 4. publish vs buildah push: the same image, the same registry, each to a repository that
 * holds none of its new layer. Each run builds an image with a fresh random layer (not timed),
 * times tanto's publish, then has buildah pull that image and times its push to another
 * repository. buildah pulls through `localhost:PORT`, the same registry under another name: its
 * blob-info cache then knows the layer only on "localhost", so it cannot skip the upload by
 * mounting the blob from tanto's repository (tanto gets no such chance either: its layer is new).
 * tanto is timed from the SDK call (no process start), buildah from spawn to exit.
 */
async function benchPublish({ session, image, registryHost, buildah }) {
  const port = registryHost.split(":")[1];
  const tanto = [];
  const peer = [];
  let sameLayer = 0;
  await withSdk(session, async (dag) => {
    for (let run = 0; run < PUBLISH_RUNS; run++) {
      checkInterrupted();
      const nonce = `${process.pid}-${Date.now()}-${run}`;
      const ctr = dag
        .container()
        .from(image)
        .withExec(["sh", "-c", `head -c ${PUBLISH_LAYER_MB * 2 ** 20} /dev/urandom > /layer-${nonce}`]);
      await ctr.sync();
      const t0 = performance.now();
      await ctr.publish(`${registryHost}/bench-tanto-${run}:latest`);
      tanto.push(performance.now() - t0);

      const pulled = `localhost:${port}/bench-tanto-${run}:latest`;
      await buildah.run(["pull", "--quiet", "--tls-verify=false", pulled]);
      peer.push(
        await timedRun("buildah", [...buildah.base, "push", "--quiet", "--tls-verify=false", pulled, `docker://${registryHost}/bench-buildah-${run}:latest`]),
      );

      // buildah compresses anew, so its top layer has a digest of its own. The same digest
      // would mean the blob may have been mounted from tanto's repository instead of uploaded.
      const [mine, theirs] = await Promise.all([`bench-tanto-${run}`, `bench-buildah-${run}`].map((repo) => topLayer(registryHost, repo)));
      if (mine === theirs) sameLayer++;
    }
  });
  return { tanto, buildah: peer, sameLayer };
}

/** The digest of the last layer of `repo:latest`, from the registry's manifest. */
async function topLayer(registryHost, repo) {
  const res = await fetch(`http://${registryHost}/v2/${repo}/manifests/latest`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  if (!res.ok) throw new Error(`GET ${repo} manifest: ${res.status}`);
  return (await res.json()).layers.at(-1).digest;
}

/**
 * 5. Cold start: from spawning `tanto engine` (on the root the other benchmarks filled, so no
 * pull is measured) to its first answered `{ version }` through a session. The session is the
 * project's own client library in this process, not a `tanto session` child, so the figure
 * holds the engine's start and not a second Node.js start.
 */
async function benchColdStart({ dir, root, configFile }) {
  const { EngineClient } = await import(path.join(REPO, "dist/src/client/engine-client.js"));
  const { openClientSession } = await import(path.join(REPO, "dist/src/client/session-server.js"));
  const health = [];
  const firstQuery = [];
  const engineOpen = [];
  const nodeStart = [];
  const rss = [];
  for (let i = 0; i < STARTS; i++) {
    checkInterrupted();
    // The floor any Node.js engine pays: a bare `node` process start, interleaved with the engine's.
    nodeStart.push(await timedRun(process.execPath, ["-e", ""]));
    const socket = path.join(dir, `cold-${i}.sock`);
    const logFile = path.join(dir, `cold-${i}.log`);
    const t0 = performance.now();
    const engine = startEngine({ root, configFile, socket, logFile });
    try {
      await waitHealthy(engine, socket, { logFile });
      health.push(performance.now() - t0);
      const client = new EngineClient(`unix://${socket}`);
      const s = await openClientSession(client, { labels: {} });
      try {
        const data = await query({ url: `http://127.0.0.1:${s.port}/query`, auth: "Basic " + Buffer.from(s.token + ":").toString("base64") }, "{ version }");
        if (!data.version) throw new Error("{ version } answered without a version");
        firstQuery.push(performance.now() - t0);
      } finally {
        await s.close();
      }
      rss.push(await rssMb(engine.pid));
      // The engine's own figure (Engine.open + listen, without Node.js start and module loading).
      const reported = Number(/startup_ms=(\d+)/.exec(fs.readFileSync(logFile, "utf8"))?.[1]);
      if (Number.isFinite(reported)) engineOpen.push(reported);
    } finally {
      const code = await stopChild(engine);
      if (code !== 0) log(`warning: cold-start engine ${i} exited with ${code}; see ${logFile}`);
    }
  }
  return { health, firstQuery, engineOpen, nodeStart, rss };
}

// ---------------------------------------------------------------------------------------------
// Orchestration

async function main(cleanup) {
  if (process.getuid?.() !== 0) throw new Error("run as root: runc and overlay mounts need it");
  for (const f of [TANTO, path.join(REPO, "dist/src/cli/main.js"), path.join(REPO, "dist/test/support/images.js")]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing; run \`npm run build\` first`);
  }
  const results = {
    when: new Date().toISOString(),
    machine: machineInfo(),
    iterations: ITERATIONS,
    warmup: WARMUP,
    starts: STARTS,
    syncRuns: SYNC_RUNS,
    publishRuns: PUBLISH_RUNS,
    notes: [],
  };

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "tanto-bench-"));
  cleanup.defer(`${dir}`, () => removeTree(dir));
  log(`working in ${dir}`);

  // A private registry holding the busybox fixture image.
  const { startRegistry } = await import(path.join(REPO, "dist/test/support/registry.js"));
  const { pushBusybox } = await import(path.join(REPO, "dist/test/support/images.js"));
  const registry = await startRegistry();
  cleanup.defer("registry", () => registry.stop());
  await pushBusybox(registry.host, ["busybox:latest"]);
  const image = `${registry.host}/busybox:latest`;
  log(`registry at ${registry.host}`);

  // The engine under test, with a root of its own.
  const root = path.join(dir, "engine-root");
  const configFile = path.join(dir, "engine.toml");
  const socket = path.join(dir, "engine.sock");
  const logFile = path.join(dir, "engine.log");
  // A network of its own, so that the bench runs next to a default engine (which holds "tanto").
  await fsp.writeFile(configFile, `[registry."${registry.host}"]\nhttp = true\n[network]\nname = "tbengine"\ncidr = "10.214.0.0/16"\n`);
  const engine = startEngine({ root, configFile, socket, logFile });
  cleanup.defer("engine", () => stopChild(engine));
  await waitHealthy(engine, socket, { logFile });
  const rssAfterStartup = await rssMb(engine.pid);

  const session = await openSession({ socket, logFile: path.join(dir, "session.log") });
  cleanup.defer("session", () => stopChild(session.child));
  // Pull and unpack now, so that no timed run pays for it.
  await query(session, `{ container { from(address: "${image}") { withExec(args: ["true"]) { exitCode } } } }`);

  const platforms = () => {
    log(`emulated linux/arm64: uncached exec (${ITERATIONS} iterations) and ${PLATFORM_CHAIN_RUNS} uncached chains, vs amd64 and podman`);
    const h = { query, engineGet, timedRun, summarize, log, checkInterrupted, commandWorks, execFileP, warmup: WARMUP, nofile: NOFILE };
    return benchPlatforms({
      repo: REPO,
      dir,
      registryHost: registry.host,
      session,
      socket,
      iterations: ITERATIONS,
      chainRuns: PLATFORM_CHAIN_RUNS,
      cleanup,
      h,
    });
  };
  const tracing = () => {
    log(`tracing: ${ITERATIONS} uncached 20-step chains on an engine exporting to a local Jaeger and on one that does not`);
    const h = { query, engineGet, summarize, log, checkInterrupted, stopChild, waitHealthy, openSession, warmup: WARMUP };
    return benchTracing({ repo: REPO, dir, tanto: TANTO_JS, registryHost: registry.host, iterations: ITERATIONS, cleanup, h });
  };
  const remoteCache = () => {
    log(`remote cache: ${CACHE_RUNS} uncached 20-step chains exported by one engine, answered by another from the registry, and run from scratch by a third`);
    const h = { query, engineGet, summarize, log, checkInterrupted, stopChild, waitHealthy, openSession };
    return benchRemoteCache({ dir, tanto: TANTO_JS, registryHost: registry.host, runs: CACHE_RUNS, cleanup, h });
  };
  if (opts.only === "remote-cache") {
    results.only = "remote-cache";
    results.remoteCache = await remoteCache();
    results.loadavgEnd = os.loadavg();
    return results;
  }
  const modules = () => {
    log(`modules: ${MODULE_FIRST_RUNS} first calls of fresh modules per SDK, ${ITERATIONS} cached calls vs a plain SDK script`);
    const h = { summarize, log, checkInterrupted, warmup: WARMUP };
    return benchModules({
      dir,
      tanto: TANTO_JS,
      socket,
      registryHost: registry.host,
      iterations: ITERATIONS,
      firstRuns: MODULE_FIRST_RUNS,
      h,
    });
  };
  if (opts.only === "modules") {
    results.only = "modules";
    results.modules = await modules();
    results.loadavgEnd = os.loadavg();
    return results;
  }
  if (opts.only === "tracing") {
    results.only = "tracing";
    results.tracing = await tracing();
    results.modules = await modules();
    results.loadavgEnd = os.loadavg();
    return results;
  }
  if (opts.only === "startup") {
    await stopChild(engine);
    log(`cold start, ${STARTS} starts on the same root`);
    Object.assign(results, { only: "startup", coldStart: coldStartResults(await benchColdStart({ dir, root, configFile })) });
    results.memory = { rssAfterStartupMb: rssAfterStartup };
    results.loadavgEnd = os.loadavg();
    return results;
  }
  if (opts.only === "platforms") {
    results.only = "platforms";
    results.platforms = await platforms();
    results.notes.push(...results.platforms.notes);
    results.loadavgEnd = os.loadavg();
    return results;
  }

  // A second engine whose execs get loopback only: what the network namespace costs.
  const noNet = {
    root: path.join(dir, "engine-nonet-root"),
    configFile: path.join(dir, "engine-nonet.toml"),
    socket: path.join(dir, "engine-nonet.sock"),
    logFile: path.join(dir, "engine-nonet.log"),
  };
  await fsp.writeFile(noNet.configFile, `[registry."${registry.host}"]\nhttp = true\n[network]\nenabled = false\nname = "tbnonet"\n`);
  const noNetEngine = startEngine(noNet);
  cleanup.defer("engine without network", () => stopChild(noNetEngine));
  await waitHealthy(noNetEngine, noNet.socket, { logFile: noNet.logFile });
  const noNetSession = await openSession({ socket: noNet.socket, logFile: path.join(dir, "session-nonet.log") });
  cleanup.defer("session without network", () => stopChild(noNetSession.child));
  await query(noNetSession, `{ container { from(address: "${image}") { withExec(args: ["true"]) { exitCode } } } }`);

  // Baselines.
  const bundle = await prepareRuncBundle(dir);
  const runcRoot = path.join(dir, "runc");
  cleanup.defer("runc containers", () => deleteRuncContainers(runcRoot));
  const peers = [];
  const docker = await ensureDocker(dir, cleanup);
  if (docker.started) results.notes.push(`dockerd ${await dockerVersion(docker)} was started by the bench (own data root and bridge, --iptables=false)`);
  for (const peer of [podmanPeer(dir, image), dockerPeer(image, docker, { bridge: false }), dockerPeer(image, docker, { bridge: true })]) {
    if (!(await peer.available())) {
      results.notes.push(`${peer.name} skipped: ${peer.missing}`);
      continue;
    }
    cleanup.defer(peer.name, peer.cleanup);
    try {
      await peer.prepare();
      peers.push(peer);
    } catch (err) {
      results.notes.push(`${peer.name} skipped: cannot pull ${image}: ${firstLine(err)}`);
    }
  }

  const engines = [
    { name: "tanto", session, socket },
    { name: "tanto (no network)", session: noNetSession, socket: noNet.socket },
  ];
  log(`uncached exec: ${[...engines.map((e) => e.name), "runc", ...peers.map((p) => p.name)].join(", ")}, ${ITERATIONS} iterations each, interleaved`);
  const exec = await benchUncachedExec({ engines, image, bundle, runcRoot, peers });
  await stopChild(noNetSession.child);
  const noNetExit = await stopChild(noNetEngine);
  if (noNetExit !== 0) results.notes.push(`the engine without network exited with ${noNetExit} on SIGTERM`);

  log(`cached ${CHAIN_STEPS}-step chain through the SDK, ${ITERATIONS} iterations`);
  const chain = await benchCachedChain({ session, socket, image });

  results.platforms = await platforms();
  results.notes.push(...results.platforms.notes);
  results.tracing = await tracing();
  results.modules = await modules();
  results.remoteCache = await remoteCache();

  log(
    `host directory of ${SYNC_DIRS * SYNC_FILES_PER_DIR} files / ${Math.round((SYNC_DIRS * SYNC_FILES_PER_DIR * SYNC_FILE_BYTES) / 1e6)} MB: first sync vs unchanged from a new session, ${SYNC_RUNS} runs`,
  );
  const sync = await benchHostSync({ dir, socket });

  let publish;
  const buildah = await buildahTool(dir, cleanup);
  if (buildah.missing) results.notes.push(`publish vs buildah push skipped: ${buildah.missing}`);
  else {
    log(`publish of a fresh ${PUBLISH_LAYER_MB} MB layer vs buildah push, ${PUBLISH_RUNS} runs`);
    publish = await benchPublish({ session, image, registryHost: registry.host, buildah });
    if (publish.sameLayer > 0)
      results.notes.push(
        `in ${publish.sameLayer} publish run(s) buildah pushed a layer digest identical to tanto's: it may have mounted the blob rather than uploaded it`,
      );
  }

  await stopChild(session.child);
  await new Promise((r) => setTimeout(r, 2000));
  const rssIdle = await rssMb(engine.pid);
  const engineStats = await engineGet(socket, "/v1/stats");
  const engineExit = await stopChild(engine);
  if (engineExit !== 0) results.notes.push(`the engine exited with ${engineExit} on SIGTERM`);

  log(`cold start, ${STARTS} starts on the same root`);
  const cold = await benchColdStart({ dir, root, configFile });

  // Leftovers after a clean engine stop are engine bugs worth seeing, not just cleaning up.
  const leaked = await mountsUnder(root);
  if (leaked.length > 0) results.notes.push(`the engine left ${leaked.length} mount(s) under its root after stopping: ${leaked.slice(0, 3).join(", ")}`);

  Object.assign(results, {
    uncachedExec: {
      ...Object.fromEntries(Object.entries(exec.samples).map(([k, v]) => [k, summarize(v)])),
      executedExecs: exec.executedExecs,
    },
    cachedChain: { steps: CHAIN_STEPS, ...summarize(chain.samples), executedWhileTimed: chain.executedWhileTimed },
    hostSync: {
      files: SYNC_DIRS * SYNC_FILES_PER_DIR,
      bytes: SYNC_DIRS * SYNC_FILES_PER_DIR * SYNC_FILE_BYTES,
      first: summarize(sync.first),
      unchangedNewSession: summarize(sync.again),
    },
    publish: publish ? { layerMb: PUBLISH_LAYER_MB, tanto: summarize(publish.tanto), buildahPush: summarize(publish.buildah) } : null,
    coldStart: coldStartResults(cold),
    memory: { rssAfterStartupMb: rssAfterStartup, rssAfterBenchIdleMb: rssIdle },
    engineStats,
    loadavgEnd: os.loadavg(),
  });
  if (results.loadavgEnd[0] > os.cpus().length) results.notes.push("the machine was busy with other work (load above its CPU count): expect noisy figures");
  return results;
}

function coldStartResults(cold) {
  return {
    health: summarize(cold.health),
    firstQuery: summarize(cold.firstQuery),
    engineReportedStartupMs: cold.engineOpen.length ? summarize(cold.engineOpen) : null,
    bareNodeStart: summarize(cold.nodeStart),
    rssMb: summarize(cold.rss),
  };
}

/** The table: one row per figure, tanto's median / p90 next to the baseline's, the ratio and the goal. */
function renderTable(r) {
  if (r.only === "platforms") return formatTable(platformRows(r.platforms, fmtSummary), r);
  if (r.only === "tracing") return formatTable(tracingRows(r.tracing, fmtSummary, GOALS.tracingRatio), r);
  if (r.only === "startup") return formatTable(startupRows(r), r);
  if (r.only === "modules")
    return formatTable(
      moduleRows(r.modules, fmtSummary, (ok) => (ok ? "ok" : "MISSED")),
      r,
    );
  if (r.only === "remote-cache") return formatTable(remoteCacheRows(r.remoteCache, fmtSummary, GOALS.remoteCacheRatio), r);
  const rows = [];
  const ex = r.uncachedExec;
  const ratio = (a, b) => a / b;
  const verdict = (ok) => (ok ? "ok" : "MISSED");
  const noNet = "tanto (no network)";
  // One row per comparison: [label, tanto's contender, baseline, goal ratio or undefined].
  const execRows = [
    ["uncached withExec(true) vs runc run", "tanto", "runc", GOALS.execRatio],
    ["  pooled network vs loopback-only engine", "tanto", noNet, GOALS.networkRatio],
    ["  loopback-only engine vs runc run", noNet, "runc"],
    ["  vs podman run --network none", "tanto", "podman"],
    ["  vs docker run --network none", "tanto", "docker"],
    ["  vs docker run (default bridge)", "tanto", "docker (bridge)", GOALS.dockerBridgeRatio],
  ];
  for (const [label, mine, peer, goal] of execRows) {
    if (!ex[mine] || !ex[peer]) continue;
    const x = ratio(ex[mine].median, ex[peer].median);
    rows.push([label, fmtSummary(ex[mine]), fmtSummary(ex[peer]), `${x.toFixed(2)}x`, goal ? `≤${goal}x` : "—", goal ? verdict(x <= goal) : ""]);
  }
  const hs = r.hostSync;
  const syncX = ratio(hs.unchangedNewSession.median, hs.first.median);
  rows.push([
    `host dir ${hs.files} files/${Math.round(hs.bytes / 1e6)} MB: again, new session vs first`,
    fmtSummary(hs.unchangedNewSession),
    fmtSummary(hs.first),
    `${syncX.toFixed(3)}x`,
    `≤${GOALS.syncRatio}x`,
    verdict(syncX <= GOALS.syncRatio),
  ]);
  if (r.publish) {
    const pb = r.publish;
    const x = ratio(pb.tanto.median, pb.buildahPush.median);
    rows.push([
      `publish (${pb.layerMb} MB new layer) vs buildah push`,
      fmtSummary(pb.tanto),
      fmtSummary(pb.buildahPush),
      `${x.toFixed(2)}x`,
      `≤${GOALS.publishRatio}x`,
      verdict(x <= GOALS.publishRatio),
    ]);
  }
  const c = r.cachedChain;
  rows.push([`cached ${c.steps}-step chain, SDK stdout()`, fmtSummary(c), "—", "—", `≤${GOALS.cachedChainMs} ms`, verdict(c.median <= GOALS.cachedChainMs)]);
  rows.push(...startupRows(r));
  rows.push([
    "engine RSS after benchmarks + 2 s idle",
    `${Math.round(r.memory.rssAfterBenchIdleMb)} MB`,
    "—",
    "—",
    `≤${GOALS.idleRssMb} MB`,
    verdict(r.memory.rssAfterBenchIdleMb <= GOALS.idleRssMb),
  ]);
  if (r.platforms) rows.push(...platformRows(r.platforms, fmtSummary));
  if (r.tracing) rows.push(...tracingRows(r.tracing, fmtSummary, GOALS.tracingRatio));
  if (r.modules) rows.push(...moduleRows(r.modules, fmtSummary, verdict));
  if (r.remoteCache) rows.push(...remoteCacheRows(r.remoteCache, fmtSummary, GOALS.remoteCacheRatio));
  return formatTable(rows, r);
}

/** Cold start and memory after start. */
function startupRows(r) {
  const rows = [];
  const ratio = (a, b) => a / b;
  const verdict = (ok) => (ok ? "ok" : "MISSED");
  const cs = r.coldStart;
  const vsNode = (s) => `${ratio(s.median, cs.bareNodeStart.median).toFixed(2)}x`;
  rows.push(["engine cold start → /v1/health vs node -e ''", fmtSummary(cs.health), fmtSummary(cs.bareNodeStart), vsNode(cs.health), "—", ""]);
  rows.push([
    "engine cold start → first query answered",
    fmtSummary(cs.firstQuery),
    fmtSummary(cs.bareNodeStart),
    vsNode(cs.firstQuery),
    `≤${GOALS.coldStartMs} ms`,
    verdict(cs.firstQuery.median <= GOALS.coldStartMs),
  ]);
  if (cs.engineReportedStartupMs) rows.push(["  of which Engine.open + listen (its log)", fmtSummary(cs.engineReportedStartupMs), "—", "—", "—", ""]);
  rows.push(["engine RSS after startup", `${Math.round(r.memory.rssAfterStartupMb)} MB`, "—", "—", "—", ""]);
  return rows;
}

function formatTable(rows, r) {
  const header = ["benchmark", "tanto", "baseline", "ratio", "goal", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join("   ")
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  out.push(
    "",
    `times are median / p90 over ${r.iterations} runs (host dir: ${r.syncRuns} runs, publish: ${r.publishRuns}, cold start: ${r.starts} starts, platform chains: ${r.platforms?.chain.runs ?? "—"}, remote cache: ${r.remoteCache?.remote.n ?? "—"}); ratio = tanto median / baseline median`,
  );
  const load = (l) => l.map((x) => x.toFixed(2)).join(" ");
  out.push(`load average ${load(r.machine.loadavgStart)} at start, ${load(r.loadavgEnd)} at end, on ${r.machine.cpus} CPUs`);
  for (const note of r.notes) out.push(`note: ${note}`);
  return out.join("\n") + "\n";
}

function machineInfo() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memMb: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    // Other work on the machine shows up in every figure; the load tells how much to trust them.
    loadavgStart: os.loadavg(),
  };
}

async function dockerVersion(docker) {
  const { stdout } = await execFileP(docker.cmd, ["version", "--format", "{{.Server.Version}}"], { env: docker.env });
  return stdout.trim();
}

const firstLine = (err) => String(err?.message ?? err).split("\n")[0];

/** `runc run` deletes its container on exit; this catches the ones an interrupted run left. */
async function deleteRuncContainers(runcRoot) {
  if (!fs.existsSync(runcRoot)) return;
  const { stdout } = await execFileP("runc", ["--root", runcRoot, "list", "--quiet"]);
  for (const id of stdout.split("\n").filter(Boolean)) await execFileP("runc", ["--root", runcRoot, "delete", "--force", id]);
}

/** Unmount whatever is still mounted below `dir` (an interrupted engine's overlays) before removing it. */
async function removeTree(dir) {
  for (const m of await mountsUnder(dir)) await execFileP("umount", ["--lazy", m]).catch((err) => log(`cannot unmount ${m}: ${firstLine(err)}`));
  await fsp.rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------

const cleanup = new Cleanup();
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (interrupt.signal.aborted) return; // cleanup is already on its way
    log(`${sig}: stopping after the current run, then cleaning up`);
    interrupt.abort(new Error(`interrupted by ${sig}`));
  });
}
try {
  const results = await main(cleanup);
  await fsp.mkdir(path.dirname(opts.json), { recursive: true });
  await fsp.writeFile(opts.json, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write("\n" + renderTable(results));
  log(`results written to ${path.relative(process.cwd(), opts.json) || opts.json}`);
} catch (err) {
  log(interrupt.signal.aborted ? "interrupted" : `failed: ${err?.stack ?? err}`);
  process.exitCode = interrupt.signal.aborted ? 130 : 1;
} finally {
  await cleanup.run();
}
