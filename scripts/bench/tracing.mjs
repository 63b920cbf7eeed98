/**
 * The tracing row of `npm run bench` (scripts/bench.mjs, `--only tracing`): what exporting
 * spans over OTLP costs. Two engines side by side on the same registry, one with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local collector (the Jaeger that scripts/install.sh
 * builds, in-memory storage), one without; each runs an uncached 20-step chain
 * (`withExec(["echo", "step N"])` × 20 under a new value at its root), interleaved. Goal:
 * tracing ≤ 5% slower.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { openSession, query, waitHealthy } from "./engine.mjs";
import { GOALS, ratioRow } from "./report.mjs";
import { benchNetwork, checkInterrupted, log, stopChild, summarize, WARMUP } from "./util.mjs";

const CHAIN_STEPS = 20;

export async function benchTracing({ repo, dir, tanto, registryHost, iterations, cleanup }) {
  const { startJaeger } = await import(path.join(repo, "dist/test/support/jaeger.js"));
  const jaeger = await startJaeger();
  cleanup.defer("jaeger", () => jaeger.stop());
  const image = `${registryHost}/busybox:latest`;

  const engines = {};
  for (const [name, env, net] of [
    ["traced", { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlp, OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }, benchNetwork("tbtrace", "10.211.0.0/24")],
    ["plain", {}, benchNetwork("tbplain", "10.211.1.0/24")],
  ]) {
    const root = path.join(dir, `engine-${name}-root`);
    const configFile = path.join(dir, `engine-${name}.toml`);
    const socket = path.join(dir, `engine-${name}.sock`);
    const logFile = path.join(dir, `engine-${name}.log`);
    // Each engine its own network (the bench's main engine has another).
    fs.writeFileSync(configFile, `[registry."${registryHost}"]\nhttp = true\n[network]\n${net}\n`);
    const out = fs.openSync(logFile, "a");
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTEL_")));
    const child = spawn(process.execPath, [tanto, "engine", "--root", root, "--config", configFile, "--addr", `unix://${socket}`], {
      stdio: ["ignore", out, out],
      env: { ...clean, ...env },
    });
    fs.closeSync(out);
    cleanup.defer(`engine ${name}`, () => stopChild(child));
    await waitHealthy(child, socket, { logFile });
    const session = await openSession({ socket, logFile: path.join(dir, `session-${name}.log`) });
    cleanup.defer(`session ${name}`, () => stopChild(session.child));
    await query(session, `{ container { from(address: "${image}") { withExec(args: ["true"]) { exitCode } } } }`);
    engines[name] = session;
  }

  const nonce = `${process.pid}-${Date.now()}`;
  const chain = (i) => {
    let inner = "stdout";
    for (let step = CHAIN_STEPS - 1; step >= 0; step--) inner = `withExec(args: ["echo", "step ${step}"]) { ${inner} }`;
    return `{ container { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${nonce}-${i}") { ${inner} } } } }`;
  };
  const samples = { traced: [], plain: [] };
  for (let i = -WARMUP; i < iterations; i++) {
    for (const name of i % 2 === 0 ? ["traced", "plain"] : ["plain", "traced"]) {
      checkInterrupted();
      const t0 = performance.now();
      await query(engines[name], chain(`${name}-${i}`));
      const ms = performance.now() - t0;
      if (i >= 0) samples[name].push(ms);
    }
  }
  // The spans did arrive: the traced engine's chains are in Jaeger.
  await new Promise((r) => setTimeout(r, 1500));
  const found = await fetch(`${jaeger.query}/api/traces?service=tanto-engine&limit=1000&lookback=1h`).then((r) => r.json());
  const spans = (found.data ?? []).reduce((n, t) => n + t.spans.length, 0);
  if (spans < iterations * CHAIN_STEPS) throw new Error(`Jaeger holds ${spans} spans of the traced engine; expected at least ${iterations * CHAIN_STEPS}`);
  const traced = summarize(samples.traced);
  const plain = summarize(samples.plain);
  log(`tracing: ${traced.median} ms traced vs ${plain.median} ms without (${spans} spans in Jaeger)`);
  return { traced, plain, ratio: traced.median / plain.median, spansInJaeger: spans };
}

export function tracingRows(t) {
  return [ratioRow("uncached 20-step chain, spans exported to a local Jaeger (OTLP/HTTP) vs not", t.traced, t.plain, GOALS.tracingRatio)];
}
