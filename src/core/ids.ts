/**
 * Object IDs. An ID is the object's recipe: its type, its state, and the DAG
 * of vertices the state refers to, each distinct vertex once (in input order,
 * referred to by index), so an ID grows with the number of distinct calls and
 * never with how often a sub-recipe is reused. IDs name sources and content
 * (image digests, git commits, URLs, client content digests), never handles
 * of one engine, so they load in any tanto engine and after restarts.
 *
 * Wire form: `tanto2.` + base64url(deflate(JSON)), the JSON being
 *
 *   { "t": typename, "s": state, "n": [[op, [input indices], name?], …] }
 *
 * where a vertex anywhere in an op or the state is `{"$v": index}`. Decoding
 * checks every op against its spec schema (ops/specs) and the state against
 * its type's schema, so a forged ID is an error naming the bad field, never
 * an op run with bad fields.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { InvalidArgumentError, messageOf } from "../errors.js";
import type { OpSpec, Vertex } from "../solver/types.js";
import { isVertex, vertex } from "../solver/vertex.js";
import { parseOpSpec } from "./op-specs.js";

const PREFIX = "tanto2.";
/** Inflated size limit: far above any real recipe, far below a memory problem. */
const MAX_JSON_BYTES = 32 << 20;
const MAX_VERTICES = 200_000;

export interface Identified {
  readonly typename: string;
  /** State from which the object can be rebuilt; vertices may appear anywhere in it. */
  toJSON(): unknown;
}

type VertexRow = [op: unknown, inputs: number[], name?: string];

export function encodeId(obj: Identified): string {
  const rows: VertexRow[] = [];
  const index = new Map<string, number>();
  const ref = (v: Vertex): { $v: number } => ({ $v: add(v) });
  // Post-order over inputs and vertices nested in ops, without recursion on inputs.
  const add = (root: Vertex): number => {
    const known = index.get(root.digest);
    if (known !== undefined) return known;
    const stack: Array<{ v: Vertex; ready: boolean }> = [{ v: root, ready: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (index.has(top.v.digest)) {
        stack.pop();
        continue;
      }
      if (!top.ready) {
        top.ready = true;
        for (const input of top.v.inputs) if (!index.has(input.digest)) stack.push({ v: input, ready: false });
        continue;
      }
      stack.pop();
      const op = replaceVertices(top.v.op, ref);
      const row: VertexRow = [op, top.v.inputs.map((i) => index.get(i.digest)!)];
      if (top.v.name !== top.v.op.kind) row.push(top.v.name);
      index.set(top.v.digest, rows.push(row) - 1);
    }
    return index.get(root.digest)!;
  };
  const state = replaceVertices(obj.toJSON(), ref);
  const json = JSON.stringify({ t: obj.typename, s: state, ...(rows.length > 0 ? { n: rows } : {}) });
  return PREFIX + deflateRawSync(json).toString("base64url");
}

/** Vertices anywhere in `value` replaced by `ref(vertex)`; other values copied as JSON would. */
function replaceVertices(value: unknown, ref: (v: Vertex) => unknown): unknown {
  if (isVertex(value)) return ref(value);
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : replaceVertices(v, ref)));
  if (value !== null && typeof value === "object") {
    const withJson = value as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === "function") return replaceVertices(withJson.toJSON(), ref);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = replaceVertices(v, ref);
    return out;
  }
  return value;
}

export interface DecodedId {
  readonly typename: string;
  /** The state with its vertices rebuilt; to be checked by the type's schema. */
  readonly state: unknown;
}

/** Decoded IDs by their text: SDKs send the same IDs over and over. */
const decoded = new Map<string, DecodedId>();
const DECODED_MAX = 2000;

export function decodeId(id: string): DecodedId {
  if (typeof id !== "string") throw new InvalidArgumentError(`invalid ID: want a string, got ${typeof id}`);
  const hit = decoded.get(id);
  if (hit) {
    decoded.delete(id);
    decoded.set(id, hit);
    return hit;
  }
  const result = decodeFresh(id);
  decoded.set(id, result);
  if (decoded.size > DECODED_MAX) decoded.delete(decoded.keys().next().value!);
  return result;
}

function decodeFresh(id: string): DecodedId {
  if (!id.startsWith(PREFIX)) {
    throw new InvalidArgumentError(`invalid ID ${show(id)}: not an ID issued by a tanto engine (want the prefix "${PREFIX}")`);
  }
  let parsed: unknown;
  try {
    const json = inflateRawSync(Buffer.from(id.slice(PREFIX.length), "base64url"), { maxOutputLength: MAX_JSON_BYTES });
    parsed = JSON.parse(json.toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`invalid ID ${show(id)}: corrupt encoding (${messageOf(err)})`);
  }
  try {
    return decodeJson(parsed);
  } catch (err) {
    throw new InvalidArgumentError(`invalid ID ${show(id)}: ${messageOf(err)}`);
  }
}

function decodeJson(parsed: unknown): DecodedId {
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
  const { t, s, n } = parsed as { t?: unknown; s?: unknown; n?: unknown };
  if (typeof t !== "string" || t === "") throw new Error('"t" (the type name) must be a non-empty string');
  const rows = n === undefined ? [] : n;
  if (!Array.isArray(rows)) throw new Error('"n" (the vertices) must be an array');
  if (rows.length > MAX_VERTICES) throw new Error(`${rows.length} vertices is more than the limit of ${MAX_VERTICES}`);
  const vertices: Vertex[] = [];
  const resolve =
    (at: string) =>
    (i: unknown): Vertex => {
      if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= vertices.length) {
        throw new Error(`${at}: vertex reference ${JSON.stringify(i)} does not name an earlier vertex`);
      }
      return vertices[i]!;
    };
  rows.forEach((row: unknown, k) => {
    const at = `vertex ${k}`;
    if (!Array.isArray(row) || row.length < 2 || row.length > 3) throw new Error(`${at}: want [op, inputs, name?]`);
    const [op, inputs, name] = row as [unknown, unknown, unknown];
    if (!Array.isArray(inputs)) throw new Error(`${at}: inputs must be an array`);
    if (name !== undefined && typeof name !== "string") throw new Error(`${at}: name must be a string`);
    const spec: OpSpec = parseOpSpec(reviveVertices(op, resolve(at)), at);
    vertices.push(vertex(spec, inputs.map(resolve(at)), name ?? spec.kind));
  });
  return { typename: t, state: reviveVertices(s, resolve("state")) };
}

/** `{"$v": i}` anywhere in `value` replaced by vertex i. */
function reviveVertices(value: unknown, resolve: (i: unknown) => Vertex): unknown {
  if (Array.isArray(value)) return value.map((v) => reviveVertices(v, resolve));
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$v") return resolve((value as { $v: unknown }).$v);
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      if (k === "__proto__") continue;
      out[k] = reviveVertices((value as Record<string, unknown>)[k], resolve);
    }
    return out;
  }
  return value;
}

function show(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
