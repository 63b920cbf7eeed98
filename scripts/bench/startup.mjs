/**
 * `--only startup`: engine cold start to the first answered query, on the root the other groups
 * filled (so no pull is measured), interleaved with a bare `node -e ''`; and the engine's
 * resident memory after startup.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { query, REPO, startEngine, waitHealthy } from "./engine.mjs";
import { GOALS, valueRow } from "./report.mjs";
import { checkInterrupted, fmtSummary, log, rssMb, stopChild, summarize, timedRun } from "./util.mjs";

/** Stops the bench's engine (`ctx.stopMain`), then starts engines on its root one after another. */
export async function runStartup(ctx) {
  await ctx.stopMain();
  log(`cold start, ${ctx.starts} starts on the same root`);
  const cold = await benchColdStart({ dir: ctx.dir, root: ctx.root, configFile: ctx.configFile, starts: ctx.starts });
  return {
    coldStart: {
      health: summarize(cold.health),
      firstQuery: summarize(cold.firstQuery),
      engineReportedStartupMs: cold.engineOpen.length ? summarize(cold.engineOpen) : null,
      bareNodeStart: summarize(cold.nodeStart),
      rssMb: summarize(cold.rss),
    },
  };
}

/**
 * Cold start: from spawning `tanto engine` (on the root the other benchmarks filled, so no
 * pull is measured) to its first answered `{ version }` through a session. The session is the
 * project's own client library in this process, not a `tanto session` child, so the figure
 * holds the engine's start and not a second Node.js start.
 */
async function benchColdStart({ dir, root, configFile, starts }) {
  const { EngineClient } = await import(path.join(REPO, "dist/src/client/engine-client.js"));
  const { openClientSession } = await import(path.join(REPO, "dist/src/client/session-server.js"));
  const health = [];
  const firstQuery = [];
  const engineOpen = [];
  const nodeStart = [];
  const rss = [];
  for (let i = 0; i < starts; i++) {
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

/** Cold start and memory after start. */
export function startupRows(r) {
  const cs = r.coldStart;
  const vsNode = (s) => ({ baseline: fmtSummary(cs.bareNodeStart), ratio: s.median / cs.bareNodeStart.median });
  const rows = [
    valueRow("engine cold start → `/v1/health` (vs `node -e ''`)", fmtSummary(cs.health), undefined, undefined, undefined, vsNode(cs.health)),
    valueRow(
      "engine cold start → first query answered (vs `node -e ''`)",
      fmtSummary(cs.firstQuery),
      cs.firstQuery.median,
      GOALS.coldStartMs,
      "ms",
      vsNode(cs.firstQuery),
    ),
  ];
  if (cs.engineReportedStartupMs) rows.push(valueRow("— of which `Engine.open` + listen (its log)", fmtSummary(cs.engineReportedStartupMs)));
  rows.push(valueRow("engine RSS after startup", `${Math.round(r.memory.rssAfterStartupMb)} MB`));
  return rows;
}
