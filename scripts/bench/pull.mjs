/**
 * `--only pull`: pull and unpack of a 200 MB single-layer image against `podman pull` of the same
 * image from the same local registry. The bench builds the image (no public registry here): one
 * gzip layer holding the busybox root filesystem and a 200 MiB file of random bytes (so that
 * compression cannot shrink it), pushed to its registry.
 *
 * Each run, interleaved (the order alternating by run), with the cache emptied before each:
 *   - tanto: a new session, `POST /v1/prune {all: true}` on the engine (not timed), then
 *     `from(image)` + `withExec(["true"])`, timed from the query to its answer;
 *   - podman: `podman rmi --all --force` on its own storage (not timed), then `podman pull`,
 *     timed from spawn to exit.
 * tanto's side also runs one exec (tens of ms), as issue 17 defines it. A first pair is not timed.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { buffer } from "node:stream/consumers";
import { engineGet, engineRequest, openSession, query, REPO } from "./engine.mjs";
import { podmanBase } from "./peers.mjs";
import { GOALS, ratioRow } from "./report.mjs";
import { alternate, checkInterrupted, commandWorks, execFileP, log, stopChild, summarize, timedRun } from "./util.mjs";

const LAYER_FILE_MIB = 200;

export async function runPull(ctx) {
  const { dir, registryHost, socket, cleanup, notes, engine } = ctx;
  if (!(await commandWorks("podman", ["--version"]))) {
    notes.push("pull vs podman pull skipped: podman is not installed");
    return { pull: null };
  }
  log(`pull: building and pushing a single-layer image with a ${LAYER_FILE_MIB} MiB file`);
  const image = await pushBigImage(dir, registryHost);
  const base = podmanBase(path.join(dir, "pull"));
  const podmanPrune = () => execFileP("podman", [...base, "rmi", "--all", "--force"]);
  cleanup.defer("podman pull images", () => podmanPrune().catch(() => undefined));

  log(`pull of ${image} (cache pruned each run) vs podman pull, ${ctx.pullRuns} runs, interleaved`);
  const nonce = `${process.pid}-${Date.now()}`;
  const samples = { tanto: [], podman: [] };
  // The engine's CPU time (user + system, its own threads) per timed pull: steadier than the wall
  // time on a busy machine, and what most of the pull costs (runc's children are not counted).
  const engineCpuMs = [];
  // A new session per run: an open session holds what it used, and a prune leaves that.
  const tanto = async (i) => {
    const session = await openSession({ socket, logFile: path.join(dir, "session-pull.log") });
    try {
      await engineRequest(socket, "POST", "/v1/prune", { all: true });
      const before = (await engineGet(socket, "/v1/du")).total;
      const cpu0 = cpuMsOf(engine.pid);
      const t0 = performance.now();
      await query(
        session,
        `{ container { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${nonce}-${i}") { withExec(args: ["true"]) { exitCode } } } } }`,
      );
      const ms = performance.now() - t0;
      if (i >= 0) engineCpuMs.push(cpuMsOf(engine.pid) - cpu0);
      // The layer was fetched and unpacked again: the cache grew by the blob and the snapshot.
      const grew = (await engineGet(socket, "/v1/du")).total - before;
      if (grew < 1.5 * LAYER_FILE_MIB * 2 ** 20)
        throw new Error(`the engine's cache grew by ${grew} bytes only: was the image pulled and unpacked after the prune?`);
      return ms;
    } finally {
      await stopChild(session.child);
    }
  };
  const podman = async () => {
    await podmanPrune();
    return timedRun("podman", [...base, "pull", "--quiet", "--tls-verify=false", image]);
  };
  for (let i = -1; i < ctx.pullRuns; i++) {
    for (const [name, run] of alternate(i + 1, ["tanto", tanto], ["podman", podman])) {
      checkInterrupted();
      const ms = await run(i);
      if (i >= 0) samples[name].push(ms);
    }
  }
  const tantoS = summarize(samples.tanto);
  const podmanS = summarize(samples.podman);
  log(`pull: ${tantoS.median} ms vs podman pull ${podmanS.median} ms`);
  const cpuS = summarize(engineCpuMs);
  notes.push(`pull: the engine's CPU time (user + system) per pull was ${cpuS.median} ms (median; p90 ${cpuS.p90} ms)`);
  return { pull: { fileMib: LAYER_FILE_MIB, tanto: tantoS, podmanPull: podmanS, engineCpuMs: cpuS } };
}

/** User + system CPU time of process `pid` so far, in ms (Linux: /proc/PID/stat, clock ticks of 10 ms). */
function cpuMsOf(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Build the one-layer image (busybox + the random file) and push it; returns its reference. */
async function pushBigImage(dir, registryHost) {
  const { busyboxRootfs, pushImage } = await import(path.join(REPO, "dist/test/support/images.js"));
  const { packDirectory } = await import(path.join(REPO, "dist/src/archive/write-layer.js"));
  const rootfs = path.join(dir, "pull-rootfs");
  await fsp.mkdir(rootfs, { recursive: true });
  await busyboxRootfs(rootfs);
  const out = fs.createWriteStream(path.join(rootfs, "payload"));
  for (let mib = 0; mib < LAYER_FILE_MIB; mib++) {
    if (!out.write(crypto.randomBytes(2 ** 20))) await new Promise((r) => out.once("drain", r));
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  const tar = await buffer(packDirectory(rootfs));
  await fsp.rm(rootfs, { recursive: true, force: true });
  const [pushed] = await pushImage(registryHost, ["bench/pull200:latest"], [{ tar, compression: "gzip" }]);
  return pushed.ref;
}

export function pullRows(r) {
  const p = r.pull;
  if (!p) return [];
  return [
    ratioRow(
      `pull + unpack of a ${p.fileMib} MB single-layer image (\`from\` + exec, cache pruned) vs \`podman pull\``,
      p.tanto,
      p.podmanPull,
      GOALS.pullRatio,
    ),
  ];
}
