/**
 * How the Python client names things and spells types (the patterns of the
 * official dagger-io wheel's dagger/client/gen.py): snake_case members with a
 * trailing `_` on keywords, builtin scalars as Python types, objects as quoted
 * forward references, nullable types as `T | None`, lists as `list[T]`.
 */
import { words } from "../../names.js";
import { BUILTIN_SCALARS, directiveArg, type FullType, type InputValue, namedType, nullable, type TypeRef } from "../typescript/introspection.js";

const KEYWORDS = new Set([
  "False",
  "None",
  "True",
  "and",
  "as",
  "assert",
  "async",
  "await",
  "break",
  "class",
  "continue",
  "def",
  "del",
  "elif",
  "else",
  "except",
  "finally",
  "for",
  "from",
  "global",
  "if",
  "import",
  "in",
  "is",
  "lambda",
  "nonlocal",
  "not",
  "or",
  "pass",
  "raise",
  "return",
  "try",
  "while",
  "with",
  "yield",
]);

/** A GraphQL field or argument name in Python (`withExec` → with_exec, `from` → from_). */
export function pyName(graphqlName: string): string {
  const snake = words(graphqlName)
    .map((w) => w.toLowerCase())
    .join("_");
  const name = snake || graphqlName;
  return KEYWORDS.has(name) ? `${name}_` : name;
}

/** A docstring body indented for its place, or nothing. */
export function docstring(text: string | null | undefined, indent: string): string[] {
  const t = (text ?? "").trim().replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"');
  if (!t) return [];
  const lines = t.split("\n");
  if (lines.length === 1) return [`${indent}"""${lines[0]}"""`];
  return [`${indent}"""${lines[0]}`, ...lines.slice(1).map((l) => (l.trim() ? `${indent}${l}` : "")), `${indent}"""`];
}

const BUILTIN_PY: Record<string, string> = { String: "str", Int: "int", Float: "float", Boolean: "bool", ID: "str" };

export interface TypeIndex {
  byName: Map<string, FullType>;
}

/** The object type an ID-typed argument stands for: `@expectedType(name:)`, or `FooID` for an object Foo. */
export function objectOfId(index: TypeIndex, t: TypeRef, directives: InputValue["directives"]): string | undefined {
  const named = namedType(t);
  if (named.kind !== "SCALAR" || !named.name) return undefined;
  const expected = directiveArg(directives, "expectedType", "name");
  if (typeof expected === "string" && index.byName.get(expected)?.kind === "OBJECT") return expected;
  if (named.name.endsWith("ID") && named.name !== "ID") {
    const base = named.name.slice(0, -2);
    if (index.byName.get(base)?.kind === "OBJECT") return base;
  }
  return undefined;
}

/**
 * The Python annotation of a type reference. Objects are quoted (defined
 * anywhere in the file); `asObject` replaces the named type of an ID argument
 * by the object it stands for.
 */
export function pyType(index: TypeIndex, t: TypeRef, asObject?: string): string {
  const inner = nullable(t);
  let out: string;
  if (inner.kind === "LIST" && inner.ofType) out = `list[${pyType(index, inner.ofType, asObject)}]`;
  else if (asObject) out = `"${asObject}"`;
  else {
    const name = inner.name ?? "";
    const kind = index.byName.get(name)?.kind ?? inner.kind;
    if (BUILTIN_SCALARS.has(name) || name === "ID") out = BUILTIN_PY[name]!;
    else if (kind === "OBJECT" || kind === "INTERFACE") out = `"${name}"`;
    else out = name;
  }
  return t.kind === "NON_NULL" ? out : `${out} | None`;
}

/** An annotation safe at definition time: `"Foo" | None` (str | None) becomes `"Foo | None"`, as the wheel writes it. */
export function annotation(t: string): string {
  return t.includes('"') && t.includes("|") ? `"${t.replace(/"/g, "")}"` : t;
}

/** The type given to `_ctx.execute(...)` for a leaf (no quotes: evaluated at run time). */
export function runtimeType(index: TypeIndex, t: TypeRef): string {
  return pyType(index, t).replace(/"/g, "");
}

/** What a field returns: an object to chain on, a list of objects, a leaf value, or nothing. */
export function returnKind(index: TypeIndex, t: TypeRef): "object" | "objectList" | "leaf" | "void" {
  const named = namedType(t);
  const kind = index.byName.get(named.name ?? "")?.kind ?? named.kind;
  const isObject = kind === "OBJECT" || kind === "INTERFACE";
  if (nullable(t).kind === "LIST") return isObject ? "objectList" : "leaf";
  if (isObject) return "object";
  if (named.name === "Void") return "void";
  return "leaf";
}
