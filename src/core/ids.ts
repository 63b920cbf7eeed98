/**
 * Object IDs. An ID carries the whole recipe of an object (its state, with
 * the vertex DAG inlined), so it stays valid for the whole session and across
 * engine restarts without any server-side table. IDs are opaque to clients:
 * base64url of JSON.
 */
import { InvalidArgumentError, messageOf } from "../errors.js";

const PREFIX = "tanto1.";

export interface Identified {
  readonly typename: string;
  /** JSON-serialisable state from which the object can be rebuilt. */
  toJSON(): unknown;
}

export function encodeId(obj: Identified): string {
  return PREFIX + Buffer.from(JSON.stringify({ t: obj.typename, s: obj.toJSON() })).toString("base64url");
}

export function decodeId(id: string): { typename: string; state: unknown } {
  if (typeof id !== "string" || !id.startsWith(PREFIX)) {
    throw new InvalidArgumentError(`invalid ID ${JSON.stringify(truncate(id))}: not an ID issued by a tanto engine`);
  }
  try {
    const parsed = JSON.parse(Buffer.from(id.slice(PREFIX.length), "base64url").toString("utf8")) as { t?: unknown; s?: unknown };
    if (typeof parsed.t !== "string") throw new Error("missing type");
    return { typename: parsed.t, state: parsed.s };
  } catch (err) {
    throw new InvalidArgumentError(`invalid ID ${JSON.stringify(truncate(id))}: ${messageOf(err)}`);
  }
}

function truncate(s: unknown): string {
  const str = String(s);
  return str.length > 40 ? str.slice(0, 40) + "…" : str;
}
