import { CancelledError, EngineError, ExecError, messageOf } from "../errors.js";
import { type Digest, digestOf } from "../oci/digest.js";
import { metrics } from "../telemetry/metrics.js";
import { newSpanId, sinkForSpan } from "../telemetry/types.js";
import { Semaphore } from "../util/semaphore.js";
import type { CacheRecords } from "./cache-records.js";
import { CACHE_VERSION, recordKey } from "./cache-version.js";
import type { ContentChecksums } from "./content-checksums.js";
import { Inflight } from "./inflight.js";
import { opFacets } from "./op-facets.js";
import { HeldSlot } from "./slot.js";
import {
  type ContentInput,
  type OpRunner,
  type RemoteRecords,
  type Result,
  type SolveContext,
  snapshotsOf,
  type Vertex,
  type WithRemoteRecords,
} from "./types.js";

export interface SolverOptions {
  runners: readonly OpRunner[];
  records: CacheRecords;
  maxParallelism: number;
  /** Whether a recorded snapshot still exists (stale records are re-solved). */
  snapshotExists: (name: string) => number | undefined;
  /** Content checksums of results, for content keys; none: recipe keys only. */
  checksums?: ContentChecksums;
  /** Records shared through a registry ([cache] in engine.toml). */
  remote?: RemoteRecords;
}

export interface SolverStats {
  /** Ops started (cache misses, failed or not), by kind. */
  readonly executed: Record<string, number>;
  cacheHits: number;
  /** Of the hits, those found after the recipe key missed: by the inputs' results or by content key. */
  contentHits: number;
  /** Of the hits, those answered from the remote cache. */
  remoteHits: number;
}

/** The slot a context's op holds, if it is the context of a running op. */
const SLOT: unique symbol = Symbol("tanto.solver.slot");
type OpContext = SolveContext & { [SLOT]?: HeldSlot };

/**
 * Solves vertices: joins identical work in flight (see inflight.ts for what
 * each waiter keeps of its own), answers from the cache by recipe key, then
 * by the inputs' results, then by content key, and runs ops with bounded
 * parallelism. See types.ts for the lifecycle.
 */
export class Solver {
  readonly #runners: Map<string, OpRunner>;
  readonly #records: CacheRecords;
  readonly #slots: Semaphore;
  readonly #snapshotExists: (name: string) => number | undefined;
  readonly #checksums: ContentChecksums | undefined;
  readonly #remote: RemoteRecords | undefined;
  readonly #inflight = new Map<Digest, Inflight>();
  /**
   * The remote records of a solve's contexts, when its session brought its
   * own: kept here because a shared solve's context finds its session only
   * once a waiter has joined, after the solve has started.
   */
  readonly #contextRemote = new WeakMap<SolveContext, RemoteRecords>();
  /** Cancelled solves still winding down: a fresh solve of the digest waits for them. */
  readonly #winding = new Map<Digest, Promise<unknown>>();
  readonly stats: SolverStats = { executed: {}, cacheHits: 0, contentHits: 0, remoteHits: 0 };

  constructor(opts: SolverOptions) {
    this.#runners = new Map(opts.runners.map((r) => [r.kind, r]));
    this.#records = opts.records;
    this.#slots = new Semaphore(opts.maxParallelism);
    this.#snapshotExists = opts.snapshotExists;
    this.#checksums = opts.checksums;
    this.#remote = opts.remote;
  }

  /**
   * Solve `v`. Concurrent callers of the same digest share one solve; it is
   * cancelled only when every caller has gone away, and a caller coming after
   * that starts a fresh one. Called from inside a running op (a nested solve),
   * the op's slot is given back while it waits.
   */
  solve(v: Vertex, ctx: SolveContext): Promise<Result> {
    if (ctx.signal?.aborted) return Promise.reject(new CancelledError());
    const held = (ctx as OpContext)[SLOT];
    if (held) return held.held ? held.outside(() => this.#join(v, ctx), ctx.signal) : this.#join(v, ctx);
    // Not from inside an op: a result a client asked for (remote caches with mode=min export only these).
    const remote = (ctx.session as WithRemoteRecords | undefined)?.remoteCache ?? this.#remote;
    const solving = this.#join(v, ctx);
    if (!remote) return solving;
    return solving.then((result) => {
      this.#requested(v, result, remote);
      return result;
    });
  }

  /** An input of a vertex being solved: not a result a client asked for. */
  #input(v: Vertex, ctx: SolveContext): Promise<Result> {
    if (ctx.signal?.aborted) return Promise.reject(new CancelledError());
    return this.#join(v, ctx);
  }

  /**
   * Offer a requested result to the remote records: the vertex's own record;
   * for a vertex that is not recorded (a writable mount's output, a client's
   * files) or whose result the store does not keep (an image tarball), the
   * records of the vertices it is made from.
   */
  #requested(v: Vertex, result: Result | undefined, remote: RemoteRecords, depth = 0): void {
    if (this.#runners.get(v.op.kind)?.cacheable && result && remote.requested(recordKey(v.digest), v, result)) return;
    if (depth >= 4) return;
    for (const input of v.inputs) {
      const recorded = this.#runners.get(input.op.kind)?.cacheable ? this.#lookup(recordKey(input.digest)) : undefined;
      this.#requested(input, recorded, remote, depth + 1);
    }
  }

  #join(v: Vertex, ctx: SolveContext): Promise<Result> {
    let entry = this.#inflight.get(v.digest);
    if (!entry) {
      // The fast path: a recorded result needs no shared solve.
      const hit = this.#runners.get(v.op.kind)?.cacheable ? this.#lookup(recordKey(v.digest)) : undefined;
      if (hit) return Promise.resolve(this.#answer(v, hit, ctx));
      const fresh: Inflight = new Inflight(() => {
        // Cancelled: the next caller must not join this one.
        if (this.#inflight.get(v.digest) === fresh) this.#inflight.delete(v.digest);
        const winding = fresh.promise.catch(() => undefined);
        this.#winding.set(v.digest, winding);
        void winding.then(() => {
          if (this.#winding.get(v.digest) === winding) this.#winding.delete(v.digest);
        });
      });
      entry = fresh;
      const before = this.#winding.get(v.digest);
      this.#inflight.set(v.digest, fresh);
      const remote = this.#contextRemote.get(ctx) ?? (ctx.session as WithRemoteRecords | undefined)?.remoteCache;
      fresh.start((shared) => {
        if (remote) this.#contextRemote.set(shared, remote);
        return this.#solveFresh(v, fresh, shared, before).finally(() => {
          if (this.#inflight.get(v.digest) === fresh) this.#inflight.delete(v.digest);
        });
      });
    }
    return entry.join(ctx);
  }

  async #solveFresh(v: Vertex, entry: Inflight, ctx: SolveContext, before: Promise<unknown> | undefined): Promise<Result> {
    if (before) await before;
    const runner = this.#runners.get(v.op.kind);
    if (!runner) throw new EngineError(`no implementation for operation "${v.op.kind}"`);

    const key = runner.cacheable ? recordKey(v.digest) : undefined;
    // Looked up just before (the fast path) unless a cancelled solve was winding down meanwhile.
    if (key && before) {
      const hit = this.#lookup(key);
      if (hit) return this.#answer(v, hit, ctx);
    }

    const remote = this.#contextRemote.get(ctx) ?? this.#remote;
    if (key && remote) {
      // Shared by another engine: its result comes without solving the inputs.
      const progress = ctx.progress;
      const hit = await remote.lookup(key, v.op.kind, ctx.signal, progress ? (text) => progress({ type: "message", text }) : undefined);
      if (hit) {
        this.#record(key, v, hit, 0, true);
        this.stats.remoteHits++;
        return this.#answer(v, hit, ctx);
      }
    }

    const inputs = await Promise.all(v.inputs.map((i) => this.#input(i, ctx)));

    // The inputs' results, whatever recipes made them: an input answered by content (or made
    // otherwise into the same snapshot) leads the ops after it to their recorded results too.
    const resultKey = key && inputs.length > 0 ? this.#resultKey(v, inputs) : undefined;
    let hit = resultKey ? this.#lookup(resultKey) : undefined;
    // Checksums read files (once per snapshot and path): only when the cheaper keys missed.
    const selected = key && this.#checksums && !hit ? (runner.contentInputs?.(v) ?? []) : [];
    const contentKey = selected.length > 0 ? await this.#contentKey(v, inputs, selected) : undefined;
    hit ??= contentKey ? this.#lookup(contentKey) : undefined;
    if (key && hit) {
      // Next time the recipe key answers at once.
      this.#record(key, v, hit, 0, true);
      this.stats.contentHits++;
      return this.#answer(v, hit, ctx);
    }

    if (key) metrics.cacheMisses.inc();
    const held = await HeldSlot.take(this.#slots, ctx.signal);
    const started = performance.now();
    const span = spanOf(v, newSpanId(), ctx);
    ctx.progress?.({ type: "start", ...span, time: Date.now() });
    this.stats.executed[v.op.kind] = (this.stats.executed[v.op.kind] ?? 0) + 1;
    metrics.opsRun.inc({ kind: v.op.kind });
    let result: Result;
    try {
      const outsideSlot = <T>(work: () => Promise<T>): Promise<T> => held.outside(work, ctx.signal);
      const progress = sinkForSpan(ctx.progress, span.span);
      const opCtx = entry.context({ [SLOT]: held, outsideSlot, span: span.span, ...(progress ? { progress } : {}) });
      const own = this.#contextRemote.get(ctx);
      if (own) this.#contextRemote.set(opCtx, own);
      result = await runner.run(v, inputs, opCtx);
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
    } finally {
      held.finish();
    }
    const durationMs = performance.now() - started;
    metrics.opDuration.observe(durationMs / 1000, { kind: v.op.kind });
    for (const name of snapshotsOf(result)) ctx.lease?.(name);
    if (key) {
      this.#record(key, v, result, durationMs, true);
      remote?.recorded(key, v, result);
    }
    if (resultKey) this.#record(resultKey, v, result, durationMs);
    if (contentKey) this.#record(contentKey, v, result, durationMs);
    ctx.progress?.({ type: "done", ...span, cached: false, durationMs, time: Date.now() });
    return result;
  }

  #answer(v: Vertex, hit: Result, ctx: SolveContext): Result {
    for (const name of snapshotsOf(hit)) ctx.lease?.(name);
    this.stats.cacheHits++;
    metrics.cacheHits.inc();
    ctx.progress?.({ type: "done", ...spanOf(v, newSpanId(), ctx), cached: true, durationMs: 0, time: Date.now() });
    return hit;
  }

  /** Record `result`; a record by recipe key also keeps what it was made from (for `cache explain`). */
  #record(key: Digest, v: Vertex, result: Result, durationMs: number, byRecipe = false): void {
    const snapshotId = result.snapshot === undefined ? undefined : this.#snapshotExists(result.snapshot);
    this.#records.put(key, v.op.kind, result, snapshotId, durationMs, byRecipe ? { name: v.name, facets: opFacets(v) } : undefined);
  }

  /**
   * The op and its inputs by their results (see #results), with the selected
   * ones by the content of their sub-trees instead.
   */
  async #contentKey(v: Vertex, inputs: readonly Result[], selected: readonly ContentInput[]): Promise<Digest | undefined> {
    const results = this.#results(inputs);
    if (results === undefined) return undefined;
    const checksums = this.#checksums!;
    const byContent = new Set(selected.map((s) => s.input));
    const sums = await Promise.all(selected.map(async (s) => [s.input, s.path, await checksums.checksum(inputs[s.input]?.snapshot, s.path)]));
    const { origin: _where, ...keyed } = v.op;
    return digestOf({ cache: CACHE_VERSION, op: keyed, results: results.map((r, n) => (byContent.has(n) ? null : r)), content: sums });
  }

  /** The op and its inputs by their results. */
  #resultKey(v: Vertex, inputs: readonly Result[]): Digest | undefined {
    const results = this.#results(inputs);
    if (results === undefined) return undefined;
    const { origin: _where, ...keyed } = v.op;
    return digestOf({ cache: CACHE_VERSION, op: keyed, results });
  }

  /**
   * What each input's result is, whatever recipe made it: its snapshot by id
   * (ids are never reused, and a committed snapshot never changes) and its
   * metadata. Undefined when a snapshot is gone.
   */
  #results(inputs: readonly Result[]): Array<{ snapshot: number | null; meta: Digest }> | undefined {
    const results: Array<{ snapshot: number | null; meta: Digest }> = [];
    for (const r of inputs) {
      const id = r.snapshot === undefined ? null : this.#snapshotExists(r.snapshot);
      if (id === undefined) return undefined;
      results.push({ snapshot: id, meta: digestOf(r.meta) });
    }
    return results;
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

function tail(text: string, lines = 10): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** An op's span: under the caller's span (a shared solve's top op gets each waiter's own, see inflight.ts). */
function spanOf(v: Vertex, span: string, ctx: SolveContext) {
  return { span, ...(ctx.span ? { parent: ctx.span } : {}), vertex: v.digest, name: v.name, kind: "op" as const, attributes: { "tanto.op": v.op.kind } };
}
