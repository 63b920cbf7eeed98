/**
 * The span of an API call: one per GraphQL request, named after the chain
 * it selects (`container.from(address: "alpine").withExec(args: […]).stdout`),
 * so a progress tree reads like the SDK code that made it. The ops the call
 * solves hang under it.
 */
import { type FieldNode, Kind, type OperationDefinitionNode, parse, print, type SelectionSetNode } from "graphql";
import { LRUCache } from "lru-cache";
import { parseTraceParent } from "../telemetry/types.js";
import type { EngineSession } from "./sessions.js";

const MAX_ARG = 60;

/** What the cache holds for a document with no name (it holds no undefined). */
const UNNAMED = "";
/** Names of documents seen lately (clients send the same ones again and again), within a budget of text. */
const named = new LRUCache<string, string>({ max: 256, maxSize: 256 << 10, sizeCalculation: (name, key) => key.length + name.length });
const NAMED_MAX_BYTES = 16 << 10;

/** The chain of first fields of the operation; undefined when the document does not parse. */
export function callName(query: string, operationName?: string): string | undefined {
  if (query.length > NAMED_MAX_BYTES) return nameOf(query, operationName);
  const key = `${operationName ?? ""}\0${query}`;
  const known = named.get(key);
  if (known !== undefined) return known === UNNAMED ? undefined : known;
  const name = nameOf(query, operationName);
  named.set(key, name ?? UNNAMED);
  return name;
}

function nameOf(query: string, operationName: string | undefined): string | undefined {
  let doc: ReturnType<typeof parse>;
  try {
    doc = parse(query, { noLocation: true, maxTokens: 10_000 });
  } catch {
    return undefined;
  }
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
  if (!op) return undefined;
  const parts: string[] = [];
  let set: SelectionSetNode | undefined = op.selectionSet;
  while (set) {
    const fields: FieldNode[] = set.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD && !s.name.value.startsWith("__"));
    const f = fields[0];
    if (!f) break;
    const args = (f.arguments ?? []).map((a) => `${a.name.value}: ${clip(print(a.value))}`);
    parts.push(args.length > 0 ? `${f.name.value}(${args.join(", ")})` : f.name.value);
    set = fields.length === 1 ? f.selectionSet : undefined;
  }
  return parts.length > 0 ? parts.join(".") : undefined;
}

function clip(s: string): string {
  return s.length > MAX_ARG ? `${s.slice(0, MAX_ARG - 1)}…` : s;
}

/** Runs one request as a call span of the session; the result's errors mark it failed. */
export async function inCallSpan<T extends { errors?: ReadonlyArray<Record<string, unknown>> }>(
  session: EngineSession,
  span: string,
  name: string,
  fn: () => Promise<T>,
  traceparent?: string,
): Promise<T> {
  const started = performance.now();
  // The SDK's span for this request (its `traceparent` header), else the session's.
  const parent = parseTraceParent(traceparent) ?? session.traceParent;
  const base = { span, ...(parent ? { parent: parent.spanId, trace: parent.traceId } : {}), name, kind: "call" as const };
  session.progress({ type: "start", ...base, time: Date.now() });
  try {
    const result = await fn();
    const durationMs = performance.now() - started;
    if (result.errors?.length)
      session.progress({ type: "error", ...base, durationMs, message: String(result.errors[0]!["message"] ?? "failed"), time: Date.now() });
    else session.progress({ type: "done", ...base, cached: false, durationMs, time: Date.now() });
    return result;
  } catch (err) {
    session.progress({
      type: "error",
      ...base,
      durationMs: performance.now() - started,
      message: err instanceof Error ? err.message : String(err),
      time: Date.now(),
    });
    throw err;
  }
}
