import { CancelledError, EngineError, ExecError, messageOf } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { SpanFanout } from "../telemetry/fanout.js";
import { metrics } from "../telemetry/metrics.js";
import { newSpanId, sinkForSpan } from "../telemetry/types.js";
import type { CacheRecords } from "./cache-records.js";
import { Semaphore } from "./semaphore.js";
import type { OpRunner, Result, SolveContext, Vertex } from "./types.js";

export interface SolverOptions {
  runners: readonly OpRunner[];
  records: CacheRecords;
  maxParallelism: number;
  /** Whether a recorded snapshot still exists (stale records are re-solved). */
  snapshotExists: (name: string) => number | undefined;
}

export interface SolverStats {
  /** Ops started (cache misses, failed or not), by kind. */
  readonly executed: Record<string, number>;
  cacheHits: number;
}

/**
 * Solves vertices: joins identical work in flight, answers from the cache,
 * and runs ops with bounded parallelism. See types.ts for the lifecycle.
 */
export class Solver {
  readonly #runners: Map<string, OpRunner>;
  readonly #records: CacheRecords;
  readonly #slots: Semaphore;
  readonly #snapshotExists: (name: string) => number | undefined;
  readonly #inflight = new Map<Digest, { promise: Promise<Result>; waiters: number; abort: AbortController; spans: SpanFanout }>();
  readonly stats: SolverStats = { executed: {}, cacheHits: 0 };

  constructor(opts: SolverOptions) {
    this.#runners = new Map(opts.runners.map((r) => [r.kind, r]));
    this.#records = opts.records;
    this.#slots = new Semaphore(opts.maxParallelism);
    this.#snapshotExists = opts.snapshotExists;
  }

  /**
   * Solve `v`. Concurrent callers of the same digest share one solve; it is
   * cancelled only when every caller has gone away.
   */
  solve(v: Vertex, ctx: SolveContext): Promise<Result> {
    let entry = this.#inflight.get(v.digest);
    if (!entry) {
      const abort = new AbortController();
      // Every waiter sees the shared solve's spans under its own parent.
      const spans = new SpanFanout(ctx.progress, ctx.span);
      const shared: SolveContext = { ...ctx, signal: abort.signal, progress: spans.emit };
      const promise = this.#solveUncached(v, shared).finally(() => this.#inflight.delete(v.digest));
      entry = { promise, waiters: 0, abort, spans };
      this.#inflight.set(v.digest, entry);
    } else entry.spans.join(ctx.progress, ctx.span);
    return this.#join(entry, ctx.signal);
  }

  #join(entry: { promise: Promise<Result>; waiters: number; abort: AbortController }, signal?: AbortSignal): Promise<Result> {
    entry.waiters++;
    if (!signal) return entry.promise;
    if (signal.aborted) {
      if (--entry.waiters === 0) entry.abort.abort(signal.reason);
      return Promise.reject(new CancelledError());
    }
    return new Promise<Result>((resolve, reject) => {
      const onAbort = (): void => {
        if (--entry.waiters === 0) entry.abort.abort(signal.reason);
        reject(new CancelledError());
      };
      signal.addEventListener("abort", onAbort, { once: true });
      entry.promise.then(
        (r) => {
          signal.removeEventListener("abort", onAbort);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  async #solveUncached(v: Vertex, ctx: SolveContext): Promise<Result> {
    const runner = this.#runners.get(v.op.kind);
    if (!runner) throw new EngineError(`no implementation for operation "${v.op.kind}"`);

    if (runner.cacheable) {
      const hit = this.#lookup(v.digest);
      if (hit) {
        if (hit.snapshot !== undefined) ctx.lease?.(hit.snapshot);
        this.stats.cacheHits++;
        metrics.cacheHits.inc();
        ctx.progress?.({ type: "done", ...spanOf(v, newSpanId(), ctx), cached: true, durationMs: 0, time: Date.now() });
        return hit;
      }
    }

    if (runner.cacheable) metrics.cacheMisses.inc();
    const inputs = await Promise.all(v.inputs.map((i) => this.solve(i, ctx)));
    using _slot = await this.#slots.acquire(ctx.signal);
    const started = performance.now();
    const span = spanOf(v, newSpanId(), ctx);
    ctx.progress?.({ type: "start", ...span, time: Date.now() });
    this.stats.executed[v.op.kind] = (this.stats.executed[v.op.kind] ?? 0) + 1;
    metrics.opsRun.inc({ kind: v.op.kind });
    let result: Result;
    try {
      const progress = sinkForSpan(ctx.progress, span.span);
      result = await runner.run(v, inputs, { ...ctx, span: span.span, ...(progress ? { progress } : {}) });
    } catch (err) {
      metrics.opsFailed.inc({ kind: v.op.kind });
      metrics.opDuration.observe((performance.now() - started) / 1000, { kind: v.op.kind });
      ctx.progress?.({
        type: "error",
        ...span,
        time: Date.now(),
        durationMs: performance.now() - started,
        message: messageOf(err),
        ...(err instanceof ExecError ? { outputTail: tail(err.stdout + err.stderr) } : {}),
      });
      throw err;
    }
    const durationMs = performance.now() - started;
    metrics.opDuration.observe(durationMs / 1000, { kind: v.op.kind });
    if (result.snapshot !== undefined) ctx.lease?.(result.snapshot);
    if (runner.cacheable) {
      const snapshotId = result.snapshot === undefined ? undefined : this.#snapshotExists(result.snapshot);
      this.#records.put(v.digest, v.op.kind, result, snapshotId, durationMs);
    }
    ctx.progress?.({ type: "done", ...span, cached: false, durationMs, time: Date.now() });
    return result;
  }

  #lookup(key: Digest): Result | undefined {
    const record = this.#records.get(key);
    if (!record) return undefined;
    if (record.snapshot !== undefined && this.#snapshotExists(record.snapshot) === undefined) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }
}

function spanOf(v: Vertex, span: string, ctx: SolveContext) {
  return { span, ...(ctx.span ? { parent: ctx.span } : {}), vertex: v.digest, name: v.name, kind: "op" as const, attributes: { "tanto.op": v.op.kind } };
}

function tail(text: string, lines = 10): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
