/**
 * `--only exec`: one uncached `withExec(["true"])` through a session (each exec in a pooled
 * network namespace), against the same on a second engine with networking off (loopback only),
 * bare `runc run` of the same rootfs, and `podman run` / `docker run` (with and without Docker's
 * default bridge) when they are installed and usable, all interleaved; then a cached 20-step
 * chain through the official SDK (`await chain.stdout()`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { engineGet, launchEngine, query, withSdk } from "./engine.mjs";
import { deleteRuncContainers, dockerPeer, dockerVersion, ensureDocker, podmanPeer, prepareRuncBundle, prepareTantoConfigBundle } from "./peers.mjs";
import { GOALS, ratioRow, valueRow } from "./report.mjs";
import { benchNetwork, CHAIN_STEPS, checkInterrupted, firstLine, fmtSummary, log, summarize, timedRun, WARMUP } from "./util.mjs";

const NO_NET = "tanto (no network)";
const RUNC_TANTO = "runc (tanto's config)";

export async function runExec(ctx) {
  const { dir, image, cleanup, notes } = ctx;
  // A second engine whose execs get loopback only: what the network namespace costs.
  const noNet = await launchEngine({
    dir,
    name: "nonet",
    registryHost: ctx.registryHost,
    toml: `[network]\nenabled = false\n${benchNetwork("tbnonet", "10.214.255.0/24")}\n`,
    cleanup,
  });
  await query(noNet.session, `{ container { from(address: "${image}") { withExec(args: ["true"]) { exitCode } } } }`);

  const bundle = await prepareRuncBundle(dir);
  const tantoBundle = await prepareTantoConfigBundle(dir, bundle);
  const runcRoot = path.join(dir, "runc");
  cleanup.defer("runc containers", () => deleteRuncContainers(runcRoot));
  const peers = [];
  const docker = await ensureDocker(dir, cleanup);
  if (docker.started) notes.push(`dockerd ${await dockerVersion(docker)} was started by the bench (own data root and bridge, --iptables=false)`);
  for (const peer of [podmanPeer(dir, image), dockerPeer(image, docker, { bridge: false }), dockerPeer(image, docker, { bridge: true })]) {
    if (!(await peer.available())) {
      notes.push(`${peer.name} skipped: ${peer.missing}`);
      continue;
    }
    cleanup.defer(peer.name, peer.cleanup);
    try {
      await peer.prepare();
      peers.push(peer);
    } catch (err) {
      notes.push(`${peer.name} skipped: cannot pull ${image}: ${firstLine(err)}`);
    }
  }
  const engines = [
    { name: "tanto", session: ctx.session, socket: ctx.socket, pid: ctx.engine.pid },
    { name: NO_NET, session: noNet.session, socket: noNet.socket, pid: noNet.engine.pid },
  ];
  log(
    `uncached exec: ${[...engines.map((e) => e.name), "runc", RUNC_TANTO, ...peers.map((p) => p.name)].join(", ")}, ${ctx.iterations} iterations each, interleaved`,
  );
  const exec = await benchUncachedExec({ engines, image, bundles: { runc: bundle, [RUNC_TANTO]: tantoBundle }, runcRoot, peers, iterations: ctx.iterations });
  // CPU time is what a loaded machine stretches least: say where each exec's goes.
  for (const [name, c] of Object.entries(exec.cpuMs)) {
    notes.push(
      `CPU per uncached exec, ${name}: ${Object.entries(c)
        .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
        .join(", ")}`,
    );
  }
  const noNetExit = await noNet.stop();
  if (noNetExit !== 0) notes.push(`the engine without network exited with ${noNetExit} on SIGTERM`);

  log(`cached ${CHAIN_STEPS}-step chain through the SDK, ${ctx.iterations} iterations`);
  const chain = await benchCachedChain({ session: ctx.session, socket: ctx.socket, image, iterations: ctx.iterations });
  return {
    uncachedExec: {
      ...Object.fromEntries(Object.entries(exec.samples).map(([k, v]) => [k, summarize(v)])),
      executedExecs: exec.executedExecs,
      cpuMsPerExec: exec.cpuMs,
    },
    cachedChain: { steps: CHAIN_STEPS, ...summarize(chain.samples), executedWhileTimed: chain.executedWhileTimed },
  };
}

/**
 * Uncached exec: tanto through a session on each engine (`engines`: {name, session, socket},
 * the pooled-network one and the loopback-only one) vs bare runc vs peers, interleaved so that
 * noise on the machine hits all of them alike. A new env value per iteration makes each
 * tanto exec a cache miss; each engine's counters confirm that every one of them ran. Also the
 * CPU time per exec (cpuMs): of each engine's own process and of its process helper with what
 * that ran (mount, runc and the container, umount, ip), and of bare `runc run` with its children.
 */
async function benchUncachedExec({ engines, image, bundles, runcRoot, peers, iterations }) {
  const nonce = `${process.pid}-${Date.now()}`;
  const tantoExec = (session) => async (i) => {
    const doc = `{ container { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${nonce}-${i}") { withExec(args: ["true"]) { exitCode } } } } }`;
    const t0 = performance.now();
    await query(session, doc);
    return performance.now() - t0;
  };
  const runcCpu = Object.fromEntries(Object.keys(bundles).map((name) => [name, 0]));
  const runcRun = (name, k) => async (i) => {
    // This process waits for nothing else meanwhile: what its children's CPU grew by is runc's.
    const before = cpuOf(process.pid).children;
    const ms = await timedRun("runc", ["--root", runcRoot, "run", "--bundle", bundles[name], `tanto-bench-${nonce}-${k}-${i}`]);
    if (i >= 0) runcCpu[name] += cpuOf(process.pid).children - before;
    return ms;
  };

  const contenders = [
    ...engines.map((e) => ({ name: e.name, run: tantoExec(e.session) })),
    ...Object.keys(bundles).map((name, k) => ({ name, run: runcRun(name, k) })),
    ...peers.map((p) => ({ name: p.name, run: p.run })),
  ];
  const samples = Object.fromEntries(contenders.map((c) => [c.name, []]));
  const before = await Promise.all(engines.map((e) => engineGet(e.socket, "/v1/stats")));
  let cpuBefore = [];
  for (let i = -WARMUP; i < iterations; i++) {
    if (i === 0) cpuBefore = engines.map(engineCpu);
    // The order rotates each iteration: a run leaves work behind it (docker's teardown of its
    // container, an engine's unmounts), and each contender should follow every other one alike.
    const offset = (i + WARMUP) % contenders.length;
    for (const c of [...contenders.slice(offset), ...contenders.slice(0, offset)]) {
      checkInterrupted();
      const ms = await c.run(i);
      if (i >= 0) samples[c.name].push(ms);
    }
  }
  const cpuMs = Object.fromEntries(Object.entries(runcCpu).map(([name, ms]) => [name, { "runc and its children": ms / iterations }]));
  for (const [k, e] of engines.entries()) {
    const [b, a] = [cpuBefore[k], engineCpu(e)];
    cpuMs[e.name] = { engine: (a.engine - b.engine) / iterations, "process helper and its children": (a.helper - b.helper) / iterations };
  }
  const executedExecs = {};
  for (const [k, e] of engines.entries()) {
    const after = await engineGet(e.socket, "/v1/stats");
    const executed = (after.executed?.exec ?? 0) - (before[k].executed?.exec ?? 0);
    if (executed !== iterations + WARMUP) log(`warning: expected ${iterations + WARMUP} uncached execs on ${e.name}, it counted ${executed}`);
    executedExecs[e.name] = executed;
  }
  return { samples, executedExecs, cpuMs };
}

/** CPU milliseconds of process `pid` (`self`) and of the children it has waited for (`children`), from /proc. */
function cpuOf(pid) {
  try {
    // Fields after the command name: utime, stime, cutime, cstime are the 12th to 15th, in clock ticks (100 a second).
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return { self: (Number(f[11]) + Number(f[12])) * 10, children: (Number(f[13]) + Number(f[14])) * 10 };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** An engine's CPU so far: its own process, and its process helper (a `node -e` child) with the commands it waited for. */
function engineCpu(e) {
  let helper = 0;
  let kids = [];
  try {
    kids = fs.readFileSync(`/proc/${e.pid}/task/${e.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    // No children listed (the helper starts with the first command).
  }
  for (const pid of kids) {
    let cmdline = "";
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmdline.split("\0").includes("-e")) continue;
    const c = cpuOf(pid);
    helper += c.self + c.children;
  }
  return { engine: cpuOf(e.pid).self, helper };
}

/**
 * A cached chain through the official SDK, in this process (see withSdk). Each `await
 * chain.stdout()` sends the whole 20-step chain again; all of it must be cache hits.
 */
async function benchCachedChain({ session, socket, image, iterations }) {
  const samples = [];
  let executedWhileTimed = 0;
  await withSdk(session, async (dag) => {
    let chain = dag.container().from(image);
    for (let step = 0; step < CHAIN_STEPS; step++) chain = chain.withExec(["echo", `step ${step}`]);
    const warm = await chain.stdout(); // runs the 20 execs once
    if (warm.trim() !== `step ${CHAIN_STEPS - 1}`) throw new Error(`the chain printed ${JSON.stringify(warm)}`);
    for (let i = 0; i < WARMUP; i++) await chain.stdout();
    const before = await engineGet(socket, "/v1/stats");
    for (let i = 0; i < iterations; i++) {
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

export function execRows(r) {
  const rows = [];
  const ex = r.uncachedExec;
  // One row per comparison: [label, tanto's contender, baseline, goal ratio or undefined].
  const pairs = [
    ['uncached `withExec(["true"])` (pooled network namespace) vs `runc run`', "tanto", "runc", GOALS.execRatio],
    ["— pooled network vs engine with `[network] enabled = false`", "tanto", NO_NET, GOALS.networkRatio],
    ["— loopback-only engine vs `runc run`", NO_NET, "runc"],
    ["— vs `runc run` of the config.json tanto writes (Docker's seccomp profile, tini as PID 1)", "tanto", RUNC_TANTO],
    ["— `runc run`: the config.json tanto writes vs `runc spec`'s (runc's own share of the gap)", RUNC_TANTO, "runc"],
    ["— vs `podman run --network none`", "tanto", "podman"],
    ["— vs `docker run --network none`", "tanto", "docker"],
    ["— vs `docker run` (default bridge)", "tanto", "docker (bridge)", GOALS.dockerBridgeRatio],
  ];
  for (const [label, mine, peer, goal] of pairs) {
    const plotLabel = label.startsWith("— ") ? `uncached exec: ${label.slice(2)}` : undefined;
    if (ex[mine] && ex[peer]) rows.push({ ...ratioRow(label, ex[mine], ex[peer], goal), ...(plotLabel ? { plotLabel } : {}) });
  }
  const c = r.cachedChain;
  rows.push(valueRow(`cached ${c.steps}-step chain, SDK \`stdout()\``, fmtSummary(c), c.median, GOALS.cachedChainMs, "ms"));
  return rows;
}
