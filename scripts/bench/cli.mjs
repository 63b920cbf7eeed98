/**
 * `--only cli`: the whole `tanto query` process, as a user runs it (bin/tanto, connected to the
 * bench's engine through _EXPERIMENTAL_DAGGER_RUNNER_HOST, the document in a file), for the
 * cached 20-step chain, against a bare `node -e ''` (the floor of any Node.js CLI), interleaved
 * with the order alternating. Both are timed from spawn to exit; every exec is a cache hit
 * (the engine's counters show none ran while timed).
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { chainDocument, engineGet, query, TANTO } from "./engine.mjs";
import { GOALS, ratioRow } from "./report.mjs";
import { alternate, CHAIN_STEPS, checkInterrupted, execFileP, log, summarize, timedRun, WARMUP } from "./util.mjs";

export async function runCli(ctx) {
  const { dir, image, session, socket, iterations } = ctx;
  const doc = chainDocument(image, `cli-${process.pid}`, CHAIN_STEPS, (step) => ["echo", `step ${step}`]);
  const docFile = path.join(dir, "cli-chain.graphql");
  await fsp.writeFile(docFile, doc);
  // Run it once (the 20 execs) through the session, so that the CLI finds it cached.
  await query(session, doc);
  // The CLI's own environment: the engine's socket, and no session of this process (withSdk sets one).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("DAGGER_SESSION_") && !k.startsWith("OTEL_")));
  env._EXPERIMENTAL_DAGGER_RUNNER_HOST = `unix://${socket}`;
  const args = ["query", "--doc", docFile];
  const { stdout } = await execFileP(TANTO, args, { env });
  if (!stdout.includes(`step ${CHAIN_STEPS - 1}`))
    throw new Error(`tanto query printed ${JSON.stringify(stdout.slice(0, 300))}, expected the chain's last step`);

  log(`whole \`tanto query\` process for the cached ${CHAIN_STEPS}-step chain vs node -e '', ${iterations} iterations, interleaved`);
  const samples = { tanto: [], node: [] };
  const contenders = [
    ["tanto", () => timedRun(TANTO, args, env)],
    ["node", () => timedRun(process.execPath, ["-e", ""], env)],
  ];
  const before = await engineGet(socket, "/v1/stats");
  for (let i = -WARMUP; i < iterations; i++) {
    for (const [name, run] of alternate(i, ...contenders)) {
      checkInterrupted();
      const ms = await run();
      if (i >= 0) samples[name].push(ms);
    }
  }
  const after = await engineGet(socket, "/v1/stats");
  const executedWhileTimed = (after.executed?.exec ?? 0) - (before.executed?.exec ?? 0);
  if (executedWhileTimed !== 0) throw new Error(`the cached chain ran ${executedWhileTimed} execs while \`tanto query\` was timed`);
  return { cli: { steps: CHAIN_STEPS, tantoQuery: summarize(samples.tanto), bareNode: summarize(samples.node) } };
}

export function cliRows(r) {
  const c = r.cli;
  return [ratioRow(`whole \`tanto query\` process, cached ${c.steps}-step chain, vs \`node -e ''\``, c.tantoQuery, c.bareNode, GOALS.cliRatio)];
}
