/**
 * The declarations before the classes, one per schema type in name order:
 * custom scalars as branded strings (`ContainerID`), enums with their
 * value↔name converters, an `…Opts` type per field with optional arguments,
 * and input objects as plain types.
 */
import { directiveArg, type EnumValue, type FullType, type InputValue, isOptional } from "./introspection.js";
import { descriptionLines, docComment, enumMemberName, formatName, optsTypeName, pascalCase, type TypeMapper } from "./naming.js";

/** Required arguments first, then the optional rest: the official split (from the first optional on). */
export function splitArgs(args: InputValue[]): { required: InputValue[]; optional: InputValue[] } {
  const i = args.findIndex((a) => isOptional(a.type));
  return i < 0 ? { required: args, optional: [] } : { required: args.slice(0, i), optional: args.slice(i) };
}

function deprecationLines(isDeprecated: boolean | undefined, reason: string | null | undefined): string[] {
  if (!isDeprecated) return [];
  return [`@deprecated ${(reason ?? "").trim() || "This is deprecated."}`.trimEnd()];
}

/** `name?: Type` lines of an Opts or input type, with their docs. */
function typeFields(map: TypeMapper, fields: InputValue[]): string {
  return fields
    .map((f) => {
      const doc = docComment("  ", [
        ...descriptionLines(f.description),
        ...(f.description && f.isDeprecated ? [""] : []),
        ...deprecationLines(f.isDeprecated, f.deprecationReason),
      ]);
      return `${doc}  ${f.name}${isOptional(f.type) ? "?" : ""}: ${map.input(f)}`;
    })
    .join("\n");
}

function scalarDecl(t: FullType): string {
  return `${docComment("", descriptionLines(t.description))}export type ${t.name} = string & { __${t.name}: never }\n`;
}

function enumValueOf(v: EnumValue): string {
  const value = directiveArg(v.directives, "enumValue", "value");
  return typeof value === "string" ? value : v.name;
}

function enumDecl(t: FullType): string {
  const name = formatName(t.name);
  const members = [...(t.enumValues ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = members.map((m) => {
    const doc = docComment("  ", [
      ...descriptionLines(m.description),
      ...(m.description && m.isDeprecated ? [""] : []),
      ...deprecationLines(m.isDeprecated, m.deprecationReason),
    ]);
    return `${doc}  ${enumMemberName(m.name)} = ${JSON.stringify(enumValueOf(m))},`;
  });
  // One converter case per value: members sharing a value are aliases of the first.
  const seen = new Set<string>();
  const primary = members.filter((m) => {
    const v = enumValueOf(m);
    if (seen.has(v)) return false;
    seen.add(v);
    return true;
  });
  const pascal = pascalCase(t.name);
  return [
    `${docComment("", descriptionLines(t.description))}export enum ${name} {`,
    ...lines,
    "}",
    "",
    "/**",
    ` * Utility function to convert a ${t.name} value to its name so`,
    " * it can be uses as argument to call a exposed function.",
    " */",
    `function ${pascal}ValueToName(value: ${name}): string {`,
    "  switch (value) {",
    ...primary.flatMap((m) => [`    case ${name}.${enumMemberName(m.name)}:`, `      return ${JSON.stringify(m.name)}`]),
    "    default:",
    "      return value",
    "  }",
    "}",
    "",
    "/**",
    ` * Utility function to convert a ${t.name} name to its value so`,
    " * it can be properly used inside the module runtime.",
    " */",
    `function ${pascal}NameToValue(name: string): ${name} {`,
    "  switch (name) {",
    ...primary.flatMap((m) => [`    case ${JSON.stringify(m.name)}:`, `      return ${name}.${enumMemberName(m.name)}`]),
    "    default:",
    `      return name as ${name}`,
    "  }",
    "}",
    "",
  ].join("\n");
}

function optsDecls(map: TypeMapper, t: FullType): string {
  return (t.fields ?? [])
    .map((f) => {
      const { optional } = splitArgs(f.args);
      if (optional.length === 0) return "";
      return `export type ${optsTypeName(t.name, f.name, map.schema.queryType)} = {\n${typeFields(map, optional)}\n}\n`;
    })
    .join("");
}

function inputDecl(map: TypeMapper, t: FullType): string {
  const fields = [...(t.inputFields ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `${docComment("", descriptionLines(t.description))}export type ${formatName(t.name)} = {\n${typeFields(map, fields)}\n}\n`;
}

/** Every declaration of the types section, in type-name order. */
export function typesSection(map: TypeMapper, sorted: FullType[]): string {
  const out: string[] = [];
  for (const t of sorted) {
    if (t.name.startsWith("_")) continue;
    if (t.kind === "SCALAR" && !["String", "Int", "Float", "Boolean"].includes(t.name)) out.push(scalarDecl(t));
    else if (t.kind === "ENUM") out.push(enumDecl(t));
    else if (t.kind === "INPUT_OBJECT") out.push(inputDecl(map, t));
    if (t.kind === "OBJECT" || t.kind === "INTERFACE") out.push(optsDecls(map, t));
  }
  return out.filter(Boolean).join("\n");
}
