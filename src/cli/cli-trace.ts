/**
 * The CLI's own span: `tanto run CMD` is the root of its trace (or joins
 * $TRACEPARENT), the program it runs gets TRACEPARENT pointing at it, so an
 * SDK's spans — and through them the engine's — land in one trace. When the
 * OTLP variables are set the CLI exports that span and every span of its
 * session; the engine is told not to export them twice.
 */
import type { SpanRecorder } from "../telemetry/otlp.js";
import { loadOtlp } from "../telemetry/otlp-env.js";
import { formatTraceParent, newSpanId, newTraceId, parseTraceParent } from "../telemetry/types.js";
import { VERSION } from "../version.js";

export interface CliTrace {
  /** For the program and the session: this run's span. */
  readonly traceparent: string;
  readonly recorder: SpanRecorder | undefined;
  finish(error?: string): Promise<void>;
}

export async function startCliTrace(name: string, env: NodeJS.ProcessEnv = process.env): Promise<CliTrace> {
  const parent = parseTraceParent(env["TRACEPARENT"]);
  const trace = parent?.traceId ?? newTraceId();
  const span = newSpanId();
  const otlp = await loadOtlp(env, { name: "tanto-cli", version: VERSION });
  const recorder = otlp?.recorder(trace);
  // Not performance.now(): the first use of `performance` loads perf_hooks (~1 ms of the CLI's start).
  const started = process.hrtime.bigint();
  const base = { span, trace, name, kind: "call" as const, ...(parent ? { parent: parent.spanId } : {}) };
  recorder?.record({ type: "start", ...base, time: Date.now() });
  return {
    traceparent: formatTraceParent({ traceId: trace, spanId: span, sampled: true }),
    recorder,
    finish: async (error) => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      recorder?.record(
        error === undefined
          ? { type: "done", ...base, cached: false, durationMs, time: Date.now() }
          : { type: "error", ...base, durationMs, message: error, time: Date.now() },
      );
      await otlp?.shutdown().catch((err: unknown) => process.stderr.write(`tanto: exporting spans failed: ${String(err)}\n`));
    },
  };
}
