/**
 * `--only concurrency`: 100 concurrent uncached `withExec(["sleep", "1"])` (100 queries at once
 * through one session, as `Promise.all` over the SDK would send them), on an engine with
 * engine.toml `[worker.oci] max-parallelism = 4` and on one with the limit raised to 100.
 * Timed from the first query sent to the last answer, against the ideal: ⌈100 / limit⌉ × 1 s
 * (25 s and 1 s). Each engine has its own root and network; the runs alternate between them,
 * and each engine's counters confirm that all 100 execs ran.
 */
import { engineGet, launchEngine, query } from "./engine.mjs";
import { GOALS, ratioRow, valueRow } from "./report.mjs";
import { alternate, benchNetwork, checkInterrupted, fmtSummary, log, summarize } from "./util.mjs";

const EXECS = 100;
const SLEEP_S = 1;
const LIMITS = [4, 100];

export async function runConcurrency(ctx) {
  const { dir, image, registryHost, cleanup, notes } = ctx;
  const engines = {};
  for (const [k, limit] of LIMITS.entries()) {
    const toml = `[worker.oci]\nmax-parallelism = ${limit}\n[network]\n${benchNetwork(`tbpar${limit}`, `10.213.${k}.0/24`)}\n`;
    // The engine's own stop deadline (30 s) as the grace: 100 pooled namespaces go in a few seconds.
    const e = await launchEngine({ dir, name: `par${limit}`, registryHost, toml, cleanup, stopGraceMs: 30_000 });
    await query(e.session, `{ container { from(address: "${image}") { withExec(args: ["true"]) { exitCode } } } }`);
    engines[limit] = e;
  }
  // The namespace pool fills to max-parallelism in the background after start: timed bursts begin with it full.
  for (const limit of LIMITS) await poolFilled(engines[limit], limit);
  log(`concurrency: ${EXECS} × sleep ${SLEEP_S} at max-parallelism ${LIMITS.join(" and ")}, ${ctx.parallelRuns} run(s) each`);
  const nonce = `${process.pid}-${Date.now()}`;
  const samples = Object.fromEntries(LIMITS.map((l) => [l, []]));
  const burst = async (limit, run) => {
    const e = engines[limit];
    const before = (await engineGet(e.socket, "/v1/stats")).executed?.exec ?? 0;
    const doc = (n) =>
      `{ container { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${nonce}-${run}-${n}") { withExec(args: ["sleep", "${SLEEP_S}"]) { exitCode } } } } }`;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: EXECS }, (_, n) => query(e.session, doc(n))));
    const ms = performance.now() - t0;
    const ran = ((await engineGet(e.socket, "/v1/stats")).executed?.exec ?? 0) - before;
    if (ran !== EXECS) throw new Error(`max-parallelism ${limit}: the engine ran ${ran} execs for ${EXECS} concurrent queries`);
    log(`concurrency: max-parallelism ${limit}: ${Math.round(ms)} ms (ideal ${ideal(limit)} ms)`);
    return ms;
  };
  for (let run = 0; run < ctx.parallelRuns; run++) {
    for (const limit of alternate(run, ...LIMITS)) {
      checkInterrupted();
      samples[limit].push(await burst(limit, run));
    }
  }
  const stopMs = {};
  for (const limit of LIMITS) {
    const t0 = performance.now();
    const code = await engines[limit].stop();
    stopMs[limit] = Math.round(performance.now() - t0);
    log(`concurrency: the max-parallelism ${limit} engine (${limit} pooled namespaces) stopped in ${stopMs[limit]} ms`);
    if (code !== 0) notes.push(`the max-parallelism ${limit} engine exited with ${code} on SIGTERM`);
  }
  return {
    concurrency: {
      execs: EXECS,
      sleepS: SLEEP_S,
      ...Object.fromEntries(LIMITS.map((l) => [`maxParallelism${l}`, { ...summarize(samples[l]), idealMs: ideal(l), stopMs: stopMs[l] }])),
    },
  };
}

async function poolFilled(e, limit, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = (await engineGet(e.socket, "/v1/stats")).network?.ready ?? 0;
    if (ready >= limit) return;
    if (Date.now() > deadline) throw new Error(`max-parallelism ${limit}: only ${ready} network namespaces ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ideal = (limit) => Math.ceil(EXECS / limit) * SLEEP_S * 1000;

export function concurrencyRows(r) {
  const c = r.concurrency;
  const [low, high] = LIMITS.map((l) => c[`maxParallelism${l}`]);
  const idealSummary = (s) => ({ median: s.idealMs, p90: s.idealMs });
  const what = `${c.execs} concurrent \`withExec(["sleep","${c.sleepS}"])\``;
  return [
    {
      ...ratioRow(`${what}, max-parallelism ${LIMITS[0]}, vs the ideal ${low.idealMs / 1000} s`, low, idealSummary(low), GOALS.parallelRatio),
      baseline: `${low.idealMs} ms (ideal)`,
    },
    {
      ...valueRow(
        `— with max-parallelism ${LIMITS[1]}, vs the ideal ${high.idealMs / 1000} s`,
        fmtSummary(high),
        high.median,
        GOALS.parallelUnlimitedMs,
        "ms",
        {
          baseline: `${high.idealMs} ms (ideal)`,
          ratio: high.median / high.idealMs,
        },
      ),
      plotLabel: `${what}, max-parallelism ${LIMITS[1]}`,
    },
  ];
}
