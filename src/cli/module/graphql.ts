/**
 * Building the GraphQL documents the module commands send: every value is
 * inlined as a literal (as Dagger's query builder does): strings escaped for
 * GraphQL, enums bare, lists in brackets, input objects in braces. A call is a
 * chain of field selections ending in a leaf selection.
 */
import { InvalidArgumentError } from "../../errors.js";

export type Literal = string | number | boolean | null | { enum: string } | Literal[] | { fields: Record<string, Literal> };

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** A GraphQL string literal: quotes, backslashes and control characters escaped. */
export function stringLiteral(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff)) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

export function literal(v: Literal): string {
  if (v === null) return "null";
  if (typeof v === "string") return stringLiteral(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(`${v} cannot be sent as a GraphQL number`);
    return String(v);
  }
  if (Array.isArray(v)) return "[" + v.map(literal).join(", ") + "]";
  if ("enum" in v) {
    if (!NAME.test(v.enum)) throw new InvalidArgumentError(`${JSON.stringify(v.enum)} is not a valid enum value name`);
    return v.enum;
  }
  return (
    "{" +
    Object.entries(v.fields)
      .map(([k, x]) => `${name(k)}: ${literal(x)}`)
      .join(", ") +
    "}"
  );
}

function name(n: string): string {
  if (!NAME.test(n)) throw new InvalidArgumentError(`${JSON.stringify(n)} is not a valid GraphQL name`);
  return n;
}

export interface Step {
  field: string;
  args?: Array<[string, Literal]>;
  /** Selected under this response key (`alias: field`). */
  alias?: string;
}

/**
 * `{ a(x: 1) { b { c } } }` from [a(x:1), b, c]; `leaf` (raw selection text,
 * several fields) is selected under the last step when given.
 */
export function buildQuery(steps: readonly Step[], leaf?: string): string {
  if (steps.length === 0) throw new InvalidArgumentError("empty selection");
  let body = leaf ?? "";
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    const args = s.args && s.args.length > 0 ? "(" + s.args.map(([k, v]) => `${name(k)}: ${literal(v)}`).join(", ") + ")" : "";
    const head = (s.alias !== undefined ? `${name(s.alias)}: ` : "") + name(s.field) + args;
    body = body === "" ? head : `${head} { ${body} }`;
  }
  return `query { ${body} }`;
}

/** The leaf value of a chain's response: keys followed, lists mapped. */
export function pluck(data: unknown, steps: readonly Step[]): unknown {
  let value = data;
  const walk = (v: unknown, i: number): unknown => {
    if (i === steps.length || v === null || v === undefined) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, i));
    const key = steps[i]!.alias ?? steps[i]!.field;
    return walk((v as Record<string, unknown>)[key], i + 1);
  };
  value = walk(value, 0);
  return value;
}
