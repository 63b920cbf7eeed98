/**
 * `tanto cache explain`: for an object's recipe (a Dagger ID), which ops
 * would run rather than be answered from the cache, and for each, which of
 * its inputs differs from the closest cached record of its kind.
 *
 * Nothing is solved: an op is cached when a record exists under its recipe
 * key (as the solver's first lookup). Each record made by recipe key keeps
 * its op's facets (solver/op-facets.ts); the closest record is the one of the
 * same kind sharing the most facets (the newest among equals). The facets
 * that differ are put in words by explain-words.ts.
 *
 *   const e = explainRecipe(db, rootsOf(decodeId(id).state));
 *   e.ops[0].changes[0].says  // 'env FOO changed: "1" → "2"'
 *
 * An op whose recipe misses may still be answered by content (an input made
 * differently with equal content): explain reports the recipe miss.
 */
import type { Database } from "../metadata/database.js";
import { recordKey } from "../solver/cache-version.js";
import { type Facets, opFacets } from "../solver/op-facets.js";
import type { Vertex } from "../solver/types.js";
import { isVertex } from "../solver/vertex.js";
import { describeChanges, type FacetChange } from "./explain-words.js";

export interface ExplainedOp {
  /** Its number in this explanation (1-based, inputs before the ops using them). */
  readonly n: number;
  readonly name: string;
  readonly kind: string;
  readonly vertex: string;
  /** The record compared with; none: no record of this kind has facets here. */
  readonly closest?: { readonly name: string; readonly created: number };
  readonly changes: readonly FacetChange[];
}

export interface Explanation {
  /** Ops that would run, inputs first. */
  readonly ops: readonly ExplainedOp[];
  /** Ops of the recipe answered from the cache (the walk stops at them). */
  readonly cached: number;
}

/** Kinds never recorded: a client directory (synced each time) and a mount's output (its exec is the record). */
const SOURCES = new Set(["host-dir"]);
const DERIVED = new Set(["output"]);

/** Every vertex an object's state holds (a container's rootfs and last exec, a directory's source…). */
export function rootsOf(state: unknown): Vertex[] {
  const found = new Map<string, Vertex>();
  const walk = (x: unknown): void => {
    if (isVertex(x)) found.set(x.digest, x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x !== null && typeof x === "object") Object.values(x).forEach(walk);
  };
  walk(state);
  return [...found.values()];
}

export function explainRecipe(db: Database, roots: readonly Vertex[]): Explanation {
  const hasRecord = db.prepare<[string], { one: number }>("SELECT 1 AS one FROM cache_records WHERE key = ?");
  const candidates = db.prepare<[string], { name: string; facets: string; created: number }>(
    "SELECT name, facets, created FROM cache_record_inputs WHERE kind = ? ORDER BY created DESC LIMIT 5000",
  );
  const listing = db.prepare<[string], { entries: string }>("SELECT entries FROM host_tree_listings WHERE snapshot = ?");
  const ops: ExplainedOp[] = [];
  /** Digest → the op's number when it runs, 0 when cached or not an op. */
  const seen = new Map<string, number>();
  let cached = 0;

  const visit = (v: Vertex): number => {
    const known = seen.get(v.digest);
    if (known !== undefined) return known;
    if (SOURCES.has(v.op.kind)) return remember(v, 0);
    if (DERIVED.has(v.op.kind)) return remember(v, Math.max(0, ...v.inputs.map(visit)));
    if (hasRecord.get(recordKey(v.digest))) {
      cached++;
      return remember(v, 0);
    }
    const inputRuns = v.inputs.map(visit);
    const now = opFacets(v);
    const closest = closestRecord(now, candidates.all(v.op.kind));
    const changes = closest
      ? describeChanges(v, closest.facets, now, {
          inputRuns,
          listing: (snapshot) => {
            const row = listing.get(snapshot);
            return row ? (JSON.parse(row.entries) as Array<[string, string, number, string]>) : undefined;
          },
        })
      : [];
    const n = ops.length + 1;
    ops.push({
      n,
      name: v.name,
      kind: v.op.kind,
      vertex: v.digest,
      ...(closest ? { closest: { name: closest.name, created: closest.created } } : {}),
      changes,
    });
    return remember(v, n);
  };
  const remember = (v: Vertex, n: number): number => {
    seen.set(v.digest, n);
    return n;
  };
  for (const root of roots) visit(root);
  return { ops, cached };
}

/** 1 for equal values; ½ for references to one repository (`repo@sha256:…`) or one secret with other digests. */
function likeness(a: string | undefined, b: string): number {
  if (a === b) return 1;
  const at = b.lastIndexOf("@");
  return a !== undefined && at > 0 && a.slice(0, a.lastIndexOf("@")) === b.slice(0, at) ? 0.5 : 0;
}

/** The candidate sharing the most facets with `now` (rows come newest first, so the newest wins a tie). */
function closestRecord(
  now: Facets,
  rows: ReadonlyArray<{ name: string; facets: string; created: number }>,
): { name: string; facets: Facets; created: number } | undefined {
  let best: { name: string; facets: Facets; created: number } | undefined;
  let bestScore = -1;
  for (const row of rows) {
    const facets = JSON.parse(row.facets) as Facets;
    let score = 0;
    for (const [k, value] of Object.entries(now)) score += likeness(facets[k], value);
    if (score > bestScore) {
      best = { name: row.name, facets, created: row.created };
      bestScore = score;
    }
  }
  return best;
}
