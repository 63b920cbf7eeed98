/**
 * The classes of the generated client: one per object type (`Query` is
 * `Client`), and per interface a TypeScript interface plus a `_<Name>Client`
 * class. Fields returning objects are chainable methods that only extend the
 * query; leaves, lists and IDs of objects are async methods that run it
 * (lists of objects and IDs come back as objects through `node(id:)`).
 */
import { directiveArg, type Field, type FullType, type InputValue, isLeaf, isList, namedType, nullable } from "./introspection.js";
import { className, descriptionLines, docComment, formatName, optsTypeName, pascalCase, type TypeMapper } from "./naming.js";
import { splitArgs } from "./types-section.js";

function byFieldName(a: Field, b: Field): number {
  if (a.name === "id") return -1;
  if (b.name === "id") return 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function methodDoc(f: Field, required: InputValue[], optional: InputValue[]): string {
  const lines = descriptionLines(f.description);
  if (directiveArg(f.directives, "experimental", "reason") !== undefined) lines.unshift("EXPERIMENTAL API! Subject to change/removal at any time.", "");
  const param = (prefix: string, a: InputValue) => {
    const d = descriptionLines(a.description);
    return d.length === 0 ? [] : [`@param ${prefix}${a.name} ${d[0]}`, ...d.slice(1)];
  };
  lines.push(...required.flatMap((a) => param("", a)), ...optional.flatMap((a) => param("opts.", a)));
  if (f.isDeprecated) lines.push(`@deprecated ${(f.deprecationReason ?? "").trim() || "This field is deprecated."}`.trimEnd());
  return docComment("  ", lines);
}

/** The class name used to build a value of object or interface type `name`. */
function constructed(map: TypeMapper, name: string): string {
  return map.kindOf(name) === "INTERFACE" ? `_${name}Client` : className(name, map.schema.queryType);
}

/** The object a field's scalar result identifies, when the generator returns the object instead. */
function idResult(map: TypeMapper, f: Field): string | undefined {
  const n = nullable(f.type);
  if (f.name === "id" || n.kind !== "SCALAR" || !n.name) return undefined;
  const target = map.idTarget(n.name, directiveArg(f.directives, "expectedType", "name"));
  return target && map.kindOf(target) === "OBJECT" ? target : undefined;
}

function method(map: TypeMapper, parent: FullType, f: Field): string {
  const { queryType } = map.schema;
  const { required, optional } = splitArgs(f.args);
  const keepIds = /^load.+FromID$/.test(f.name);
  const params = required.map((a) => `${formatName(a.name)}: ${map.input(a, keepIds)}`);
  if (optional.length > 0) params.push(`opts?: ${optsTypeName(parent.name, f.name, queryType)}`);
  const enums = f.args.filter((a) => nullable(a.type).kind === "ENUM");
  const body: string[] = [];
  if (enums.length > 0) {
    body.push("    const metadata = {");
    for (const a of enums) body.push(`      ${formatName(a.name)}: { is_enum: true, value_to_name: ${pascalCase(nullable(a.type).name!)}ValueToName },`);
    body.push("    }");
  }
  const callArgs = [
    ...required.map((a) => (formatName(a.name) === a.name ? a.name : `${a.name}: ${formatName(a.name)}`)),
    ...(optional.length > 0 ? ["...opts"] : []),
    ...(enums.length > 0 ? ["__metadata: metadata"] : []),
  ];
  const select = `this._ctx.select(${JSON.stringify(f.name)}${callArgs.length > 0 ? `, { ${callArgs.join(", ")} }` : ""})`;
  const named = namedType(f.type);
  const name = formatName(f.name);
  const doc = methodDoc(f, required, optional);

  // An object (or interface): extend the query, run nothing.
  if (!isList(f.type) && (named.kind === "OBJECT" || named.kind === "INTERFACE")) {
    body.push(`    const ctx = ${select}`, `    return new ${constructed(map, named.name!)}(ctx)`);
    return `${doc}  ${name} = (${params.join(", ")}): ${map.output(f.type)} => {\n${body.join("\n")}\n  }`;
  }
  const target = idResult(map, f);
  const isVoid = named.kind === "SCALAR" && named.name === "Void" && !isList(f.type);
  const returns = target ? className(target, queryType) : isVoid ? "void" : map.output(f.type);
  if (isLeaf(f.type) && parent.name !== queryType && !target) {
    body.push(`    if (this._${f.name}) {`, isVoid ? "      return" : `      return this._${f.name}`, "    }");
  }
  if (isList(f.type) && (named.kind === "OBJECT" || named.kind === "INTERFACE")) {
    const cls = constructed(map, named.name!);
    body.push(
      `    const ctx = ${select}.select("id")`,
      "    const response: Awaited<{ id: ID }[]> = await ctx.execute()",
      `    return response.map((r) => new ${cls}(ctx.copy().selectNode(r.id, ${JSON.stringify(named.name)})))`,
    );
  } else if (target) {
    body.push(
      `    const ctx = ${select}`,
      `    const response: Awaited<${map.output(f.type)}> = await ctx.execute()`,
      `    return new ${className(target, queryType)}(ctx.copy().selectNode(response, ${JSON.stringify(target)}))`,
    );
  } else if (isVoid) {
    body.push(`    const ctx = ${select}`, "    await ctx.execute()");
  } else if (named.kind === "ENUM" && !isList(f.type)) {
    body.push(
      `    const ctx = ${select}`,
      `    const response: Awaited<string> = await ctx.execute()`,
      `    return ${pascalCase(named.name!)}NameToValue(response)`,
    );
  } else {
    body.push(`    const ctx = ${select}`, `    const response: Awaited<${returns}> = await ctx.execute()`, "    return response");
  }
  return `${doc}  ${name} = async (${params.join(", ")}): Promise<${returns}> => {\n${body.join("\n")}\n  }`;
}

function classDecl(map: TypeMapper, t: FullType, name: string): string {
  const fields = [...(t.fields ?? [])].sort(byFieldName);
  const leaves = fields.filter((f) => isLeaf(f.type));
  const lines: string[] = [`${docComment("", descriptionLines(t.description))}export class ${name} extends BaseClient {`];
  for (const f of leaves) lines.push(`  private readonly _${f.name}?: ${map.output(f.type)} = undefined`);
  lines.push(
    "",
    "  /**",
    "   * Constructor is used for internal usage only, do not create object from it.",
    "   */",
    `  constructor(ctx?: Context${leaves.map((f) => `, _${f.name}?: ${map.output(f.type)}`).join("")}) {`,
    "    super(ctx)",
    ...leaves.map((f) => `    this._${f.name} = _${f.name}`),
    "  }",
  );
  if (name === "Client")
    lines.push("", "  /**", "   * Get the Raw GraphQL client.", "   */", "  public getGQLClient() {", "    return this._ctx.getGQLClient()", "  }");
  for (const f of fields) lines.push("", method(map, t, f));
  const selfChainable = fields.some((f) => !isList(f.type) && namedType(f.type).name === t.name);
  if (selfChainable) {
    lines.push(
      "",
      "  /**",
      `   * Call the provided function with current ${name}.`,
      "   *",
      "   * This is useful for reusability and readability by not breaking the calling chain.",
      "   */",
      `  with = (arg: (param: ${name}) => ${name}): ${name} => {`,
      "    return arg(this)",
      "  }",
    );
  }
  lines.push("}", "");
  return lines.join("\n");
}

function interfaceDecl(map: TypeMapper, t: FullType): string {
  const name = formatName(t.name);
  const sigs = [...(t.fields ?? [])].sort(byFieldName).map((f) => {
    const { required, optional } = splitArgs(f.args);
    const params = required.map((a) => `${formatName(a.name)}: ${map.input(a)}`);
    if (optional.length > 0) params.push(`opts?: ${optsTypeName(t.name, f.name, map.schema.queryType)}`);
    const named = namedType(f.type);
    const sync = !isList(f.type) && (named.kind === "OBJECT" || named.kind === "INTERFACE");
    const target = idResult(map, f);
    const isVoid = named.name === "Void" && !isList(f.type);
    const ret = sync ? map.output(f.type) : `Promise<${target ? className(target, map.schema.queryType) : isVoid ? "void" : map.output(f.type)}>`;
    return `  ${formatName(f.name)}(${params.join(", ")}): ${ret}`;
  });
  return `${docComment("", descriptionLines(t.description))}export interface ${name} {\n${sigs.join("\n")}\n}\n\n${classDecl(map, t, `_${t.name}Client`)}`;
}

/** Every class of the client, in type-name order, and `dag`. */
export function objectsSection(map: TypeMapper, sorted: FullType[]): string {
  const out: string[] = [];
  for (const t of sorted) {
    if (t.name.startsWith("_")) continue;
    if (t.kind === "OBJECT") out.push(classDecl(map, t, className(t.name, map.schema.queryType)));
    else if (t.kind === "INTERFACE") out.push(interfaceDecl(map, t));
  }
  out.push("export const dag = new Client()\n");
  return out.join("\n");
}
