/**
 * One solve in flight and everyone waiting for it. Identical solves are
 * joined across sessions, yet each waiter stays itself:
 *
 * - progress reaches every waiting session once (a waiter that joins late is
 *   first shown what happened so far: which ops started, which finished);
 * - every snapshot the solve hands out is leased for every waiting session,
 *   so each keeps the result alive through a collection on its own;
 * - work that needs a client (host files, secrets, tunnels) uses the session
 *   of a waiter still there, so the solve outlives the session that began it;
 * - the solve is cancelled only when the last waiter has gone, and then it
 *   leaves the table at once: whoever asks next starts afresh.
 *
 * Waiters are contexts: a caller's own (a root), or the shared context of
 * another in-flight solve that needs this one as an input. Fan-out walks up
 * through shared contexts to the roots, remembering events and leases in
 * each entry on the way, and reaches each root session once.
 */
import { CancelledError, FailedPreconditionError } from "../errors.js";
import type { ProgressEvent, Result, SolveContext } from "./types.js";

/** Marks a context made by an entry (a waiter that is itself a solve). */
const OWNER: unique symbol = Symbol("tanto.solver.owner");
/** What progress an entry remembers for late joiners (logs are not replayed). */
const HISTORY_LIMIT = 1000;

type Sink = SolveContext;
type Sinks = Map<unknown, Sink>;

export class Inflight {
  readonly #waiters = new Map<SolveContext, number>();
  readonly #history: ProgressEvent[] = [];
  readonly #leased = new Set<string>();
  readonly #abort = new AbortController();
  #promise: Promise<Result> | undefined;

  /** `onCancel` runs once when the last waiter leaves before the end. */
  constructor(private readonly onCancel: () => void) {}

  get promise(): Promise<Result> {
    if (!this.#promise) throw new Error("in-flight solve not started");
    return this.#promise;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  start(work: (ctx: SolveContext) => Promise<Result>): void {
    this.#promise = work(this.context());
    this.#promise.catch(() => undefined);
  }

  /**
   * The context the solve runs with: this entry's signal, fan-out progress
   * and leases, and the session and secrets of a waiter still there (the
   * session is looked up on each use, so it is always one still waiting).
   */
  context(extra: object = {}): SolveContext {
    const entry = this;
    const ctx = {
      signal: this.#abort.signal,
      progress: (e: ProgressEvent) => entry.#emit(e),
      lease: (snapshot: string) => entry.#lease(snapshot),
      secrets: {
        plaintext(ref: { name: string; mac: string }): string {
          let failure: unknown;
          for (const root of entry.rootsFor(new Map()).values()) {
            if (!root.secrets) continue;
            try {
              return root.secrets.plaintext(ref);
            } catch (err) {
              failure = err;
            }
          }
          throw failure ?? new FailedPreconditionError(`secret "${ref.name}": no session waiting for this work holds it`);
        },
        values(): string[] {
          return [...new Set([...entry.rootsFor(new Map()).values()].flatMap((r) => r.secrets?.values() ?? []))];
        },
      },
      get session(): unknown {
        return entry.#session();
      },
      ...extra,
      [OWNER]: this,
    };
    return ctx as SolveContext;
  }

  /** Wait for the result as `ctx`; leaving (its signal) cancels only if no one else waits. */
  join(ctx: SolveContext): Promise<Result> {
    const signal = ctx.signal;
    if (signal?.aborted) return Promise.reject(new CancelledError());
    this.#replayTo(ctx);
    this.#waiters.set(ctx, (this.#waiters.get(ctx) ?? 0) + 1);
    if (!signal) return this.promise;
    return new Promise<Result>((resolve, reject) => {
      const onAbort = (): void => {
        this.#leave(ctx);
        reject(new CancelledError());
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.promise.then(
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

  #leave(ctx: SolveContext): void {
    const n = (this.#waiters.get(ctx) ?? 0) - 1;
    if (n > 0) {
      this.#waiters.set(ctx, n);
      return;
    }
    this.#waiters.delete(ctx);
    if (this.#waiters.size === 0 && !this.#abort.signal.aborted) {
      this.onCancel();
      this.#abort.abort(new CancelledError());
    }
  }

  /** The waiting sessions (roots), each once, in the order they came; `record` sees every entry on the way. */
  rootsFor(into: Sinks, record?: (entry: Inflight) => void): Sinks {
    record?.(this);
    for (const w of this.#waiters.keys()) collect(w, into, record);
    return into;
  }

  #session(): unknown {
    for (const root of this.rootsFor(new Map()).values()) if (root.session !== undefined) return root.session;
    return undefined;
  }

  #emit(e: ProgressEvent): void {
    const remember = e.type === "log" ? undefined : (entry: Inflight) => entry.#remember(e);
    for (const sink of this.rootsFor(new Map(), remember).values()) sink.progress?.(underRoot(e, sink));
  }

  #remember(e: ProgressEvent): void {
    if (this.#history.length >= HISTORY_LIMIT) this.#history.shift();
    this.#history.push(e);
  }

  #lease(snapshot: string): void {
    for (const sink of this.rootsFor(new Map(), (entry) => entry.#leased.add(snapshot)).values()) sink.lease?.(snapshot);
  }

  /** Show a newcomer what it missed, without repeating it to sessions already waiting. */
  #replayTo(ctx: SolveContext): void {
    if (this.#history.length === 0 && this.#leased.size === 0) return;
    const already = this.rootsFor(new Map());
    const history = this.#history;
    const leased = this.#leased;
    const reached = collect(ctx, new Map(), (entry) => {
      for (const e of history) entry.#remember(e);
      for (const snapshot of leased) entry.#leased.add(snapshot);
    });
    for (const [key, sink] of reached) {
      if (already.has(key)) continue;
      for (const snapshot of leased) sink.lease?.(snapshot);
      for (const e of history) sink.progress?.(underRoot(e, sink));
    }
  }
}

/** A span with no parent (the shared solve's top op) hangs under each waiter's own span. */
function underRoot(e: ProgressEvent, root: SolveContext): ProgressEvent {
  if (root.span === undefined || e.type === "log" || e.type === "message" || e.parent !== undefined) return e;
  return { ...e, parent: root.span };
}

function ownerOf(ctx: SolveContext): Inflight | undefined {
  return (ctx as { [OWNER]?: Inflight })[OWNER];
}

/** Add the roots behind `ctx` to `into` (a root is keyed by its session). */
function collect(ctx: SolveContext, into: Sinks, record?: (entry: Inflight) => void): Sinks {
  const owner = ownerOf(ctx);
  if (owner) return owner.rootsFor(into, record);
  const key = ctx.session ?? ctx;
  if (!into.has(key)) into.set(key, ctx);
  return into;
}
