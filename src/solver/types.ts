/**
 * The solver turns recipes into results.
 *
 * A `Vertex` is one operation and its inputs; its `digest` is the cache key:
 * the digest of the op (kind and arguments) and of its inputs' digests, never
 * of mutable state. `name` is for people (progress lines) and is outside the
 * digest, like BuildKit's vertex options.
 *
 * Solving a vertex: answer from an in-flight solve of the same digest, else
 * from the cache records by recipe key, else solve the inputs (in parallel);
 * then from the records by result key (the op and its inputs' results: each
 * snapshot by id, each result's metadata), so that an input answered from
 * the cache by another recipe leads on to the results recorded after it;
 * then, for an op with content inputs, by content key (the op and its inputs'
 * content checksums); else run the op (bounded by max-parallelism) and
 * record the result under every key. An op holds its
 * parallelism slot only while it runs: not while waiting for inputs, nested
 * solves or services (`outsideSlot`).
 *
 *   const v = vertex({ kind: "exec", args: ["true"] }, [rootfs], "exec true");
 *   const result = await solver.solve(v, ctx);
 */
import type { Digest } from "../oci/digest.js";
import type { SpanEvent } from "../telemetry/types.js";

/** A JSON-serialisable op description; `kind` picks the implementation. */
export interface OpSpec {
  readonly kind: string;
  readonly [arg: string]: unknown;
}

export interface Vertex {
  readonly digest: Digest;
  readonly op: OpSpec;
  readonly inputs: readonly Vertex[];
  readonly name: string;
}

/** What an op produced: a committed snapshot (by name) and/or metadata. */
export interface Result {
  readonly snapshot?: string;
  readonly meta: Readonly<Record<string, unknown>>;
  /**
   * Further parts the result points at (snapshots by name, content blobs by
   * digest). Its cache record owns them: the collector removes the record
   * with any of them, and a record whose parts are gone is a miss.
   */
  readonly owns?: { readonly snapshots?: readonly string[]; readonly blobs?: readonly string[] };
}

/** Every snapshot a result needs: its own and those it owns. */
export function snapshotsOf(result: Result): string[] {
  return [...(result.snapshot !== undefined ? [result.snapshot] : []), ...(result.owns?.snapshots ?? [])];
}

/** Spans of the work (src/telemetry/types.ts): ops, their cache hits, their logs. */
export type ProgressEvent = SpanEvent;

export interface SolveContext {
  readonly signal?: AbortSignal;
  readonly progress?: (event: ProgressEvent) => void;
  /** The span the work hangs under (the API call; for an op's runner, the op's span). */
  readonly span?: string;
  /** Values that live only as long as the session (client attachables). */
  readonly session?: unknown;
  /**
   * Called, synchronously with the lookup or commit that produced it, for
   * every snapshot a solve hands out: the garbage collector keeps it until
   * the session ends.
   */
  readonly lease?: (snapshot: string) => void;
  /** The session's secrets, for ops that use them (by HMAC) and to scrub output. */
  readonly secrets?: {
    plaintext(ref: { name: string; mac: string }): string;
    values(): string[];
  };
  /**
   * Set for a running op: run `work` (waiting on services, nested solves)
   * with the op's parallelism slot given back, and take one again after.
   */
  readonly outsideSlot?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** An input sub-tree that enters the content key by its content: input `input` at `path`. */
export interface ContentInput {
  readonly input: number;
  readonly path: string;
}

export interface OpRunner {
  readonly kind: string;
  /** Whether results may be recorded in the persistent cache. */
  readonly cacheable: boolean;
  run(vertex: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result>;
  /**
   * Inputs whose content, not recipe, may key the cache (BuildKit's content
   * checksums): two vertices that differ only in how those inputs were made
   * share a result. None: the op has recipe keys only.
   */
  contentInputs?(vertex: Vertex): readonly ContentInput[];
}

/**
 * Records shared through a remote store (an OCI registry: src/cache/). A
 * recipe key missed locally is looked up there before the op's inputs are
 * solved (a hit answers without solving them). A lookup that fails is a miss.
 * The store is offered two kinds of results (BuildKit's export modes tell
 * which it keeps): every result recorded by running an op (`recorded`), and
 * the results clients asked for (`requested`): the vertex of a top-level
 * solve (one not made from inside a running op: an API call's result, the
 * inputs of a service or terminal started for a client), however it was
 * answered, or, when that vertex is not recorded (a
 * writable mount's output) or its result is one the store does not keep (an
 * image tarball), the recorded vertices it is made from.
 */
export interface RemoteRecords {
  /** `tell` shows the client a line (a registry that cannot be read). */
  lookup(key: string, kind: string, signal: AbortSignal | undefined, tell?: (text: string) => void): Promise<Result | undefined>;
  recorded(key: string, v: Vertex, result: Result): void;
  /** False when the store keeps no such result: the solver offers the vertex's inputs instead. */
  requested(key: string, v: Vertex, result: Result): boolean;
}

/** A session that brings its own remote records (the client's `_EXPERIMENTAL_DAGGER_CACHE_CONFIG`): used instead of the engine's. */
export interface WithRemoteRecords {
  readonly remoteCache?: RemoteRecords | undefined;
}
