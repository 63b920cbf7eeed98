import { CANONICAL, digestOf } from "../oci/digest.js";
import type { OpSpec, Vertex } from "./types.js";

const VERTICES = new WeakSet<object>();

/**
 * Build a vertex; its digest covers the op and the inputs' digests only. A
 * vertex nested in an op (a service's exec) counts by its digest, so digests
 * stay cheap however deep the recipe.
 */
export function vertex(op: OpSpec, inputs: readonly Vertex[] = [], name: string = op.kind): Vertex {
  const digest = digestOf({ op, inputs: inputs.map((i) => i.digest) });
  const v = Object.freeze({ digest, op, inputs, name, [CANONICAL]: () => ({ $vertex: digest }) });
  VERTICES.add(v);
  return v;
}

/** Whether `x` was made by `vertex()` (not a look-alike from JSON). */
export function isVertex(x: unknown): x is Vertex {
  return typeof x === "object" && x !== null && VERTICES.has(x);
}
