/**
 * The remote cache rows of `npm run bench` (scripts/bench.mjs, `--only remote-cache`): three
 * engines on the bench's registry, each with its own root and network. Engine A runs an uncached
 * 20-step chain and exports its records to the registry (`[cache] export`); the time until its
 * exports are done is the export time. Engine B (`[cache] import`) then answers the same chain
 * from the registry, and engine C (no remote cache) runs it from scratch. Each run is a new chain
 * (a new value at its root), so nothing is cached locally. Goal: B ≤ 0.5× C.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { engineGet, openSession, query, waitHealthy } from "./engine.mjs";
import { GOALS, ratioRow } from "./report.mjs";
import { benchNetwork, checkInterrupted, log, stopChild, summarize } from "./util.mjs";

const CHAIN_STEPS = 20;

export async function benchRemoteCache({ dir, tanto, registryHost, runs, cleanup }) {
  const image = `${registryHost}/busybox:latest`;
  const ref = `${registryHost}/bench-cache/${process.pid}`;
  const engines = {};
  for (const [name, cache, net] of [
    ["exporter", `export = ["type=registry,ref=${ref},mode=max"]`, benchNetwork("tbrca", "10.212.0.0/24")],
    ["importer", `import = ["type=registry,ref=${ref}"]`, benchNetwork("tbrcb", "10.212.1.0/24")],
    ["scratch", "", benchNetwork("tbrcc", "10.212.2.0/24")],
  ]) {
    const root = path.join(dir, `engine-rc-${name}-root`);
    const configFile = path.join(dir, `engine-rc-${name}.toml`);
    const socket = path.join(dir, `engine-rc-${name}.sock`);
    const logFile = path.join(dir, `engine-rc-${name}.log`);
    fs.writeFileSync(configFile, `[registry."${registryHost}"]\nhttp = true\n[network]\n${net}\n[cache]\n${cache}\n`);
    const out = fs.openSync(logFile, "a");
    const child = spawn(process.execPath, [tanto, "engine", "--root", root, "--config", configFile, "--addr", `unix://${socket}`], {
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    cleanup.defer(`engine ${name}`, () => stopChild(child));
    await waitHealthy(child, socket, { logFile });
    const session = await openSession({ socket, logFile: path.join(dir, `session-rc-${name}.log`) });
    cleanup.defer(`session ${name}`, () => stopChild(session.child));
    engines[name] = { session, socket };
  }

  const nonce = `${process.pid}-${Date.now()}`;
  const chain = (i) => {
    let inner = "stdout";
    for (let step = CHAIN_STEPS - 1; step >= 0; step--) inner = `withExec(args: ["sh", "-c", "echo step ${step} >> /log; wc -l < /log"]) { ${inner} }`;
    return `{ container { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${nonce}-${i}") { ${inner} } } } }`;
  };
  const execs = async (name) => (await engineGet(engines[name].socket, "/v1/stats")).executed.exec ?? 0;
  const samples = { run: [], export: [], remote: [], scratch: [] };
  for (let i = 0; i < runs; i++) {
    checkInterrupted();
    let t0 = performance.now();
    await query(engines.exporter.session, chain(i));
    samples.run.push(performance.now() - t0);
    for (;;) {
      const s = (await engineGet(engines.exporter.socket, "/v1/stats")).remoteCache;
      if (s.exportsPending === 0) {
        if (s.exportsFailed > 0) throw new Error(`remote cache: ${s.exportsFailed} exports failed (see engine-rc-exporter.log)`);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    samples.export.push(performance.now() - t0);
    const before = await execs("importer");
    t0 = performance.now();
    await query(engines.importer.session, chain(i));
    samples.remote.push(performance.now() - t0);
    if ((await execs("importer")) !== before) throw new Error("the importing engine ran execs: the remote cache did not answer");
    t0 = performance.now();
    await query(engines.scratch.session, chain(i));
    samples.scratch.push(performance.now() - t0);
  }
  const remote = summarize(samples.remote);
  const scratch = summarize(samples.scratch);
  log(
    `remote cache: ${remote.median} ms from the registry vs ${scratch.median} ms from scratch; export done ${summarize(samples.export).median} ms after the chain started`,
  );
  return { run: summarize(samples.run), export: summarize(samples.export), remote, scratch, ratio: remote.median / scratch.median };
}

export function remoteCacheRows(r) {
  return [
    ratioRow("20-step chain on an empty engine from another engine's remote cache (registry) vs from scratch", r.remote, r.scratch, GOALS.remoteCacheRatio),
    ratioRow("— remote cache export: the chain run and its 21 records pushed (until none is pending) vs the run alone", r.export, r.run),
  ];
}
