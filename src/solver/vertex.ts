import { digestOf } from "../oci/digest.js";
import type { OpSpec, Vertex } from "./types.js";

/** Build a vertex; its digest covers the op and the inputs' digests only. */
export function vertex(op: OpSpec, inputs: readonly Vertex[] = [], name: string = op.kind): Vertex {
  const digest = digestOf({ op, inputs: inputs.map((i) => i.digest) });
  return Object.freeze({ digest, op, inputs, name });
}

/** The serialised form of a vertex DAG, as embedded in object IDs. */
export interface VertexJson {
  op: OpSpec;
  inputs?: VertexJson[];
  name?: string;
}

export function vertexToJson(v: Vertex): VertexJson {
  const out: VertexJson = { op: v.op };
  if (v.inputs.length > 0) out.inputs = v.inputs.map(vertexToJson);
  if (v.name !== v.op.kind) out.name = v.name;
  return out;
}

export function vertexFromJson(json: VertexJson): Vertex {
  if (json === null || typeof json !== "object" || typeof json.op?.kind !== "string") {
    throw new TypeError("malformed vertex");
  }
  return vertex(json.op, (json.inputs ?? []).map(vertexFromJson), json.name ?? json.op.kind);
}
