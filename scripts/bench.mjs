#!/usr/bin/env node
/**
 * `npm run bench`: tanto's performance figures, in one run, as one table; each group of rows is
 * a file under scripts/bench/, and `--only GROUP` runs one group alone:
 *
 *   exec         uncached withExec(true) vs runc, podman, docker; cached 20-step chain (SDK)
 *   cli          whole `tanto query` process for the cached chain vs `node -e ''`
 *   platforms    emulated linux/arm64 vs amd64 and podman
 *   tracing      spans exported to a local Jaeger vs not
 *   modules      first and cached `tanto call` per SDK runtime
 *   remote-cache the chain from another engine's registry cache vs from scratch
 *   concurrency  100 × sleep 1 at max-parallelism 4 and 100 vs the ideal
 *   pull         pull + unpack of a 200 MB single-layer image vs `podman pull`
 *   host-sync    host().directory() of 10,000 files / 200 MB vs `cp -a`, and again
 *   publish      publish of a fresh 50 MB layer vs `buildah push`
 *   startup      engine cold start to the first query vs `node -e ''`, RSS after start
 * The full run does them in this order, then takes the engine's RSS after 2 s idle, then startup.
 * `--only pull,publish,host-sync` runs several groups (in that same order), and takes the RSS
 * after them too, as the full run does: a run of more than one group has the memory row.
 *
 * Everything runs against a private registry and private engine roots in a temporary directory,
 * on the bench's own networks ("tbengine" 10.214.0.0/16 and a few 10.211–10.213 /24s), so the
 * figures do not depend on (or disturb) whatever else runs on the machine, and everything
 * created is removed at the end, also on failure or Ctrl-C.
 *
 * Needs root (runc, overlay mounts) and a built tree (`npm run build`). When no Docker daemon
 * answers, one is started for the run (storage in the temporary directory, `--iptables=false`)
 * and stopped at the end. Options: --iterations N (default 20), --starts N (5), --sync-runs N,
 * --publish-runs N, --pull-runs N, --platform-chain-runs N, --cache-runs N (3 each),
 * --module-first-runs N (2), --parallel-runs N (1), --only GROUP[,GROUP…], --json FILE and --plot FILE
 * (defaults: docs/bench/results.json and docs/bench/ratios.png for the full run,
 * .tmp/bench-GROUP.json and .png for one group). Progress goes to stderr; the table (markdown)
 * to stdout.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { cliRows, runCli } from "./bench/cli.mjs";
import { concurrencyRows, runConcurrency } from "./bench/concurrency.mjs";
import { engineGet, openSession, query, REPO, startEngine, TANTO, TANTO_JS, waitHealthy } from "./bench/engine.mjs";
import { execRows, runExec } from "./bench/exec.mjs";
import { hostSyncRows, runHostSync } from "./bench/host-sync.mjs";
import { benchModules, moduleRows } from "./bench/modules.mjs";
import { benchPlatforms, platformRows } from "./bench/platforms.mjs";
import { writePlot } from "./bench/plot.mjs";
import { publishRows, runPublish } from "./bench/publish.mjs";
import { pullRows, runPull } from "./bench/pull.mjs";
import { benchRemoteCache, remoteCacheRows } from "./bench/remote-cache.mjs";
import { figures, GOALS, machineInfo, renderTable, valueRow } from "./bench/report.mjs";
import { runStartup, startupRows } from "./bench/startup.mjs";
import { benchTracing, tracingRows } from "./bench/tracing.mjs";
import { benchNetwork, CHAIN_STEPS, Cleanup, interrupt, log, mountsUnder, positiveInt, removeTree, rssMb, stopChild } from "./bench/util.mjs";

const { values: opts } = parseArgs({
  options: {
    iterations: { type: "string", default: "20" },
    starts: { type: "string", default: "5" },
    "sync-runs": { type: "string", default: "3" },
    "publish-runs": { type: "string", default: "3" },
    "pull-runs": { type: "string", default: "3" },
    "platform-chain-runs": { type: "string", default: "3" },
    "module-first-runs": { type: "string", default: "2" },
    "cache-runs": { type: "string", default: "3" },
    "parallel-runs": { type: "string", default: "1" },
    only: { type: "string" },
    json: { type: "string" },
    plot: { type: "string" },
  },
});
const RUNS = {
  iterations: positiveInt(opts.iterations, "--iterations"),
  starts: positiveInt(opts.starts, "--starts"),
  syncRuns: positiveInt(opts["sync-runs"], "--sync-runs"),
  publishRuns: positiveInt(opts["publish-runs"], "--publish-runs"),
  pullRuns: positiveInt(opts["pull-runs"], "--pull-runs"),
  platformChainRuns: positiveInt(opts["platform-chain-runs"], "--platform-chain-runs"),
  moduleFirstRuns: positiveInt(opts["module-first-runs"], "--module-first-runs"),
  cacheRuns: positiveInt(opts["cache-runs"], "--cache-runs"),
  parallelRuns: positiveInt(opts["parallel-runs"], "--parallel-runs"),
};

/** The groups in the full run's order: {name, runs (its RUNS keys), run(ctx) → results to merge, rows(results), present(results)}. */
const GROUPS = [
  { name: "exec", runs: ["iterations"], run: runExec, rows: execRows, present: (r) => r.uncachedExec },
  { name: "cli", runs: ["iterations"], run: runCli, rows: cliRows, present: (r) => r.cli },
  {
    name: "platforms",
    runs: ["iterations", "platformChainRuns"],
    run: async (ctx) => {
      log(`emulated linux/arm64: uncached exec (${ctx.iterations} iterations) and ${ctx.platformChainRuns} uncached chains, vs amd64 and podman`);
      const platforms = await benchPlatforms({ ...ctx, repo: REPO, chainRuns: ctx.platformChainRuns });
      ctx.notes.push(...platforms.notes);
      return { platforms };
    },
    rows: (r) => platformRows(r.platforms),
    present: (r) => r.platforms,
  },
  {
    name: "tracing",
    runs: ["iterations"],
    run: async (ctx) => {
      log(`tracing: ${ctx.iterations} uncached ${CHAIN_STEPS}-step chains on an engine exporting to a local Jaeger and on one that does not`);
      return { tracing: await benchTracing({ ...ctx, repo: REPO, tanto: TANTO_JS }) };
    },
    rows: (r) => tracingRows(r.tracing),
    present: (r) => r.tracing,
  },
  {
    name: "modules",
    runs: ["iterations", "moduleFirstRuns"],
    run: async (ctx) => {
      log(`modules: ${ctx.moduleFirstRuns} first calls of fresh modules per SDK, ${ctx.iterations} cached calls vs a plain SDK script`);
      return { modules: await benchModules({ ...ctx, tanto: TANTO_JS, firstRuns: ctx.moduleFirstRuns }) };
    },
    rows: (r) => moduleRows(r.modules),
    present: (r) => r.modules,
  },
  {
    name: "remote-cache",
    runs: ["cacheRuns"],
    run: async (ctx) => {
      log(
        `remote cache: ${ctx.cacheRuns} uncached ${CHAIN_STEPS}-step chains exported by one engine, answered by another from the registry, and run from scratch by a third`,
      );
      return { remoteCache: await benchRemoteCache({ ...ctx, tanto: TANTO_JS, runs: ctx.cacheRuns }) };
    },
    rows: (r) => remoteCacheRows(r.remoteCache),
    present: (r) => r.remoteCache,
  },
  { name: "concurrency", runs: ["parallelRuns"], run: runConcurrency, rows: concurrencyRows, present: (r) => r.concurrency },
  { name: "pull", runs: ["pullRuns"], run: runPull, rows: pullRows, present: (r) => r.pull },
  { name: "host-sync", runs: ["syncRuns"], run: runHostSync, rows: hostSyncRows, present: (r) => r.hostSync },
  { name: "publish", runs: ["publishRuns"], run: runPublish, rows: publishRows, present: (r) => r.publish },
  { name: "startup", runs: ["starts"], run: runStartup, rows: startupRows, present: (r) => r.coldStart },
];
/** The table's order, which groups rows by what they compare rather than by when they ran. */
const TABLE_ORDER = ["exec", "cli", "pull", "publish", "host-sync", "startup", "memory", "concurrency", "platforms", "tracing", "modules", "remote-cache"];
const memoryRows = (r) => [
  valueRow(
    "engine RSS after all benchmarks (incl. the 200 MB pulls, syncs and publishes) + 2 s idle",
    `${Math.round(r.memory.rssAfterBenchIdleMb)} MB`,
    r.memory.rssAfterBenchIdleMb,
    GOALS.idleRssMb,
    "MB",
  ),
];

/** The groups to run (all of them without --only), in the full run's order. */
const only = opts.only === undefined ? undefined : opts.only.split(",").map((g) => g.trim());
for (const name of only ?? []) {
  if (!GROUPS.some((g) => g.name === name)) {
    throw new Error(`--only: want one or more of ${GROUPS.map((g) => g.name).join(", ")} (comma-separated), not ${JSON.stringify(name)}`);
  }
}
const selected = GROUPS.filter((g) => only === undefined || only.includes(g.name));
/** The memory row is taken after the groups before startup, in the full run and any run of several groups. */
const measuresIdleRss = selected.length > 1;
const jsonFile = opts.json ?? (only ? path.join(REPO, ".tmp", `bench-${only.join("+")}.json`) : path.join(REPO, "docs", "bench", "results.json"));
const plotFile = opts.plot ?? jsonFile.replace(/(\.json)?$/, ".png").replace(/results\.png$/, "ratios.png");

async function main(cleanup) {
  if (process.getuid?.() !== 0) throw new Error("run as root: runc and overlay mounts need it");
  for (const f of [TANTO, TANTO_JS, path.join(REPO, "dist/test/support/images.js")]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing; run \`npm run build\` first`);
  }
  const runs = only ? Object.fromEntries(selected.flatMap((g) => g.runs).map((k) => [k, RUNS[k]])) : RUNS;
  const results = { when: new Date().toISOString(), machine: machineInfo(), only: only?.join(",") ?? null, runs, goals: GOALS, notes: [] };

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

  // The engine under test, with a root of its own and a network of its own, so that the bench
  // runs next to a default engine (which holds "tanto").
  const root = path.join(dir, "engine-root");
  const configFile = path.join(dir, "engine.toml");
  const socket = path.join(dir, "engine.sock");
  const logFile = path.join(dir, "engine.log");
  // TANTO_BENCH_DEBUG=1: the engine logs at debug level (its idle collections with the heap's
  // figures, among others), and its log is kept as .tmp/bench-engine.log.
  const debug = process.env.TANTO_BENCH_DEBUG === "1" ? "debug = true\n" : "";
  await fsp.writeFile(configFile, `${debug}[registry."${registry.host}"]\nhttp = true\n[network]\n${benchNetwork("tbengine", "10.214.0.0/16")}\n`);
  if (debug) cleanup.defer("engine log", () => fsp.copyFile(logFile, path.join(REPO, ".tmp", "bench-engine.log")).catch(() => undefined));
  const engine = startEngine({ root, configFile, socket, logFile });
  cleanup.defer("engine", () => stopChild(engine));
  await waitHealthy(engine, socket, { logFile });
  results.memory = { rssAfterStartupMb: await rssMb(engine.pid) };

  const session = await openSession({ socket, logFile: path.join(dir, "session.log") });
  cleanup.defer("session", () => stopChild(session.child));
  // Pull and unpack now, so that no timed run pays for it.
  await query(session, `{ container { from(address: "${image}") { withExec(args: ["true"]) { exitCode } } } }`);

  const ctx = {
    ...RUNS,
    dir,
    cleanup,
    notes: results.notes,
    registryHost: registry.host,
    image,
    engine,
    session,
    socket,
    root,
    configFile,
    stopMain: async () => {
      await stopChild(session.child);
      const code = await stopChild(engine);
      if (code !== 0) results.notes.push(`the engine exited with ${code} on SIGTERM`);
    },
  };
  const idleRss = async () => {
    // The memory row: what the engine keeps after all the work above, 2 s after its last session.
    await stopChild(session.child);
    await new Promise((r) => setTimeout(r, 2000));
    results.memory.rssAfterBenchIdleMb = await rssMb(engine.pid);
    // What the resident memory is: anonymous (heap, malloc arenas, buffers) or file-backed (code, mapped files).
    const rollup = await fsp.readFile(`/proc/${engine.pid}/smaps_rollup`, "utf8").catch(() => "");
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? Number.NaN);
    results.memory.idleAnonymousMb = Math.round(kb("Anonymous") / 1024);
    results.memory.idleFileMb = Math.round((kb("Rss") - kb("Anonymous")) / 1024);
    results.engineStats = await engineGet(socket, "/v1/stats");
  };
  for (const group of selected) {
    if (measuresIdleRss && group.name === "startup") await idleRss();
    Object.assign(results, await group.run(ctx));
  }
  if (measuresIdleRss && !selected.some((g) => g.name === "startup")) await idleRss();
  if (selected.some((g) => g.name === "startup")) {
    // Leftovers after a clean engine stop are engine bugs worth seeing, not just cleaning up.
    const leaked = await mountsUnder(root);
    if (leaked.length > 0) results.notes.push(`the engine left ${leaked.length} mount(s) under its root after stopping: ${leaked.slice(0, 3).join(", ")}`);
  }
  results.loadavgEnd = os.loadavg();
  if (results.loadavgEnd[0] > os.cpus().length) results.notes.push("the machine was busy with other work (load above its CPU count): expect noisy figures");
  return results;
}

/** The table's rows, in TABLE_ORDER, of the groups that ran. */
function tableRows(r) {
  const rows = [];
  for (const name of TABLE_ORDER) {
    if (name === "memory") {
      if (r.memory?.rssAfterBenchIdleMb !== undefined) rows.push(...memoryRows(r));
      continue;
    }
    const group = GROUPS.find((g) => g.name === name);
    if (group.present(r)) rows.push(...group.rows(r));
  }
  return rows;
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
  const rows = tableRows(results);
  results.figures = figures(rows);
  await fsp.mkdir(path.dirname(jsonFile), { recursive: true });
  await fsp.writeFile(jsonFile, JSON.stringify(results, null, 2) + "\n");
  const plot = writePlot(results, plotFile);
  if (plot.note) log(plot.note);
  process.stdout.write("\n" + renderTable(rows, results));
  log(`results written to ${path.relative(process.cwd(), jsonFile) || jsonFile}, plot to ${path.relative(process.cwd(), plot.file) || plot.file}`);
} catch (err) {
  log(interrupt.signal.aborted ? "interrupted" : `failed: ${err?.stack ?? err}`);
  process.exitCode = interrupt.signal.aborted ? 130 : 1;
} finally {
  await cleanup.run();
}
