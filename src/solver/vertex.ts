import { CANONICAL, digestOf } from "../oci/digest.js";
import type { OpSpec, Vertex } from "./types.js";

const VERTICES = new WeakSet<object>();

/**
 * Build a vertex; its digest covers the op and the inputs' digests only. A
 * vertex nested in an op (a service's exec) counts by its digest, so digests
 * stay cheap however deep the recipe. An op's `origin` says where content
 * named by digest can be fetched again (a URL, a client's path): it is not
 * part of the digest, so equal content is one cache key wherever it came from.
 */
export function vertex(op: OpSpec, inputs: readonly Vertex[] = [], name: string = op.kind): Vertex {
  const { origin: _where, ...keyed } = op;
  const digest = digestOf({ op: keyed, inputs: inputs.map((i) => i.digest) });
  const v = Object.freeze({ digest, op, inputs, name, [CANONICAL]: () => ({ $vertex: digest }) });
  VERTICES.add(v);
  return v;
}

/** Whether `x` was made by `vertex()` (not a look-alike from JSON). */
export function isVertex(x: unknown): x is Vertex {
  return typeof x === "object" && x !== null && VERTICES.has(x);
}
