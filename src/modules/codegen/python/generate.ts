/**
 * The Python client (dagger/client/gen.py) for a module's schema. The
 * official dagger-io wheel ships gen.py for the core API; what a module's
 * schema adds (its dependencies' objects, enums, inputs, ID scalars and their
 * Query fields such as `dag.my_dep()`) is generated from Dagger's
 * introspection JSON in the same patterns and merged into the wheel's file:
 * new classes before `class Client(Query)`, new Query methods at the end of
 * `class Query`, new names in `__all__`. Types and fields the wheel already
 * has are kept as the wheel has them.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../../../errors.js";
import { directiveArg, type Field, type FullType, type Introspection, isOptional, parseIntrospection } from "../typescript/introspection.js";
import { annotation, docstring, objectOfId, pyName, pyType, returnKind, runtimeType, type TypeIndex } from "./types.js";

const SKIPPED = new Set(["String", "Int", "Float", "Boolean", "ID"]);

/** Class names and Query method names the wheel's gen.py defines. */
function wheelNames(genPy: string): { classes: Set<string>; queryMethods: Set<string> } {
  const classes = new Set([...genPy.matchAll(/^class (\w+)\(/gm)].map((m) => m[1]!));
  const query = queryBlock(genPy);
  const queryMethods = new Set([...genPy.slice(query.start, query.end).matchAll(/^ {4}(?:async )?def (\w+)\(/gm)].map((m) => m[1]!));
  return { classes, queryMethods };
}

/** Where `class Query(...)` starts and its body ends (before the next top-level statement). */
function queryBlock(genPy: string): { start: number; end: number } {
  const start = genPy.search(/^class Query\(/m);
  if (start < 0) throw new InvalidArgumentError("gen.py has no class Query");
  const next = /^(?:@|class |\w+ = |__all__)/gm;
  next.lastIndex = genPy.indexOf("\n", start) + 1;
  const m = next.exec(genPy);
  const end = m ? m.index : genPy.length;
  return { start, end };
}

function methodFor(index: TypeIndex, f: Field): string[] {
  const name = pyName(f.name);
  const required = f.args.filter((a) => !isOptional(a.type) && a.defaultValue === null);
  const optional = f.args.filter((a) => isOptional(a.type) || a.defaultValue !== null);
  const argType = (a: Field["args"][number]) => {
    const keepId = /^load\w+FromID$/.test(f.name);
    return pyType(index, a.type, keepId ? undefined : objectOfId(index, a.type, a.directives));
  };
  const params = [
    "self",
    ...required.map((a) => `${pyName(a.name)}: ${annotation(argType(a))}`),
    ...(optional.length > 0 ? ["*", ...optional.map((a) => `${pyName(a.name)}: ${annotation(`${argType(a).replace(/ \| None$/, "")} | None`)} = None`)] : []),
  ];
  const kind = returnKind(index, f.type);
  const ret = f.name === "id" ? "str" : annotation(pyType(index, f.type));
  const isAsync = kind !== "object";
  const head = params.length > 2 || params.join(", ").length > 60 ? [`(`, ...params.map((p) => `        ${p},`), `    )`] : [`(${params.join(", ")})`];
  const lines = [`    ${isAsync ? "async " : ""}def ${name}${head[0]}`, ...head.slice(1)];
  lines[lines.length - 1] += ` -> ${ret}:`;
  lines.push(...docstring(f.description ?? (f.isDeprecated ? `Deprecated: ${f.deprecationReason ?? ""}` : ""), "        "));
  if (f.args.length === 0) lines.push("        _args: list[Arg] = []");
  else {
    lines.push("        _args = [");
    for (const a of required) lines.push(`            Arg("${a.name}", ${pyName(a.name)}),`);
    for (const a of optional) lines.push(`            Arg("${a.name}", ${pyName(a.name)}, None),`);
    lines.push("        ]");
  }
  if (f.name === "sync" && kind !== "object") {
    lines.push(`        return await self._ctx.execute_sync(self, "sync", _args)`);
    return lines;
  }
  lines.push(`        _ctx = self._select("${f.name}", _args)`);
  if (kind === "object") lines.push(`        return ${ret.replace(/"/g, "").replace(/ \| None$/, "")}(_ctx)`);
  else if (kind === "objectList")
    lines.push(`        return await _ctx.execute_object_list(${runtimeType(index, f.type).replace(/^list\[|\]( \| None)?$/g, "")})`);
  else if (kind === "void") lines.push("        await _ctx.execute()");
  else lines.push(`        return await _ctx.execute(${f.name === "id" ? "str" : runtimeType(index, f.type)})`);
  return lines;
}

/** A class: its header lines, then the body's parts (docstring, members) separated by blank lines. */
function block(header: string[], parts: string[][]): string[] {
  const body = parts.filter((p) => p.length > 0);
  if (body.length === 0) return [...header, "    pass"];
  return [...header, ...body.flatMap((p, i) => (i === 0 ? p : ["", ...p]))];
}

function classFor(index: TypeIndex, t: FullType): string[] {
  const doc = docstring(t.description, "    ");
  if (t.kind === "SCALAR") return block([`class ${t.name}(Scalar):`], [doc]);
  if (t.kind === "ENUM") {
    const members = (t.enumValues ?? []).map((v) => {
      const value = directiveArg(v.directives, "enumValue", "value");
      return [`    ${v.name} = ${JSON.stringify(typeof value === "string" ? value : v.name)}`, ...docstring(v.description, "    ")];
    });
    return block(["@typecheck", `class ${t.name}(Enum):`], [doc, ...members]);
  }
  if (t.kind === "INPUT_OBJECT") {
    const fields = [...(t.inputFields ?? [])].sort((a, b) => Number(isOptional(a.type)) - Number(isOptional(b.type)));
    const members = fields.map((f) => [
      `    ${pyName(f.name)}: ${annotation(pyType(index, f.type))}${isOptional(f.type) ? " = None" : ""}`,
      ...docstring(f.description, "    "),
    ]);
    return block(["@typecheck", "@dataclass(slots=True)", `class ${t.name}(Input):`], [doc, ...members]);
  }
  const methods = [...(t.fields ?? [])].sort((a, b) => pyName(a.name).localeCompare(pyName(b.name))).map((f) => methodFor(index, f));
  const withFn = [
    `    def with_(self, cb: Callable[["${t.name}"], "${t.name}"]) -> "${t.name}":`,
    `        """Call the provided callable with current ${t.name}.`,
    "",
    "        This is useful for reusability and readability by not breaking the calling chain.",
    '        """',
    "        return cb(self)",
  ];
  return block(["@typecheck", `class ${t.name}(Type):`], [doc, ...methods, withFn]);
}

const ORDER: Record<string, number> = { SCALAR: 0, ENUM: 1, INPUT_OBJECT: 2, OBJECT: 3, INTERFACE: 3 };

/** The classes and Query methods `schema` adds to the wheel's gen.py, as Python source. */
export function additions(schema: Introspection, wheelGenPy: string): { classes: string[]; queryMethods: string[]; names: string[] } {
  const index: TypeIndex = { byName: new Map(schema.types.map((t) => [t.name, t])) };
  const known = wheelNames(wheelGenPy);
  const fresh = schema.types
    .filter((t) => !SKIPPED.has(t.name) && t.name !== schema.queryType && !known.classes.has(t.name) && t.kind in ORDER)
    .sort((a, b) => ORDER[a.kind]! - ORDER[b.kind]! || a.name.localeCompare(b.name));
  const query = index.byName.get(schema.queryType);
  const queryFields = (query?.fields ?? []).filter((f) => !known.queryMethods.has(pyName(f.name))).sort((a, b) => a.name.localeCompare(b.name));
  return {
    classes: fresh.map((t) => classFor(index, t).join("\n")),
    queryMethods: queryFields.map((f) => methodFor(index, f).join("\n")),
    names: fresh.map((t) => t.name),
  };
}

/** Recent results: every session that loads a module asks again for the same schema. */
const recent = new Map<string, string>();
const RECENT_MAX = 8;

/** gen.py for the schema in `introspectionJson`: the wheel's file with what the schema adds merged in. */
export function generatePythonClient(introspectionJson: string, wheelGenPy: string): string {
  const key = createHash("sha256").update(introspectionJson).update("\0").update(wheelGenPy).digest("hex");
  const hit = recent.get(key);
  if (hit !== undefined) return hit;
  const out = mergeClient(introspectionJson, wheelGenPy);
  recent.set(key, out);
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  return out;
}

function mergeClient(introspectionJson: string, wheelGenPy: string): string {
  const add = additions(parseIntrospection(introspectionJson), wheelGenPy);
  if (add.classes.length === 0 && add.queryMethods.length === 0) return wheelGenPy;
  let out = wheelGenPy;
  if (add.queryMethods.length > 0) {
    const { end } = queryBlock(out);
    const body = out.slice(0, end).replace(/\s+$/, "");
    out = `${body}\n\n${add.queryMethods.join("\n\n")}\n\n\n${out.slice(end)}`;
  }
  if (add.classes.length > 0) {
    // Before Query: its methods' annotations name the new enums and scalars when defined.
    const { start } = queryBlock(out);
    const at = out.lastIndexOf("\n@typecheck\n", start) === start - "@typecheck\n".length - 1 ? start - "@typecheck\n".length : start;
    out = `${out.slice(0, at)}${add.classes.join("\n\n\n")}\n\n\n${out.slice(at)}`;
    const all = /^__all__ = \[\n/m.exec(out);
    if (all) {
      const at = all.index + all[0].length;
      out = `${out.slice(0, at)}${add.names.map((n) => `    ${JSON.stringify(n)},\n`).join("")}${out.slice(at)}`;
    }
  }
  return out;
}
