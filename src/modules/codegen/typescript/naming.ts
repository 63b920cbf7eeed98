/**
 * Names and TypeScript types of the generated client, as the official
 * generator forms them: words that clash with JavaScript (compared without
 * case) get a `_` suffix (`Module_`, `import_`), `Query` is `Client`, enum
 * members are PascalCase of the lower-cased name (`FAIL_EARLY` → `FailEarly`),
 * and ID arguments take the object they identify.
 */
import { BUILTIN_SCALARS, directiveArg, type FullType, type InputValue, type Introspection, nullable, type TypeRef } from "./introspection.js";

const CLASHING = new Set(
  (
    "await break case catch class const continue debugger default delete do else enum extends false finally for function if " +
    "implements import in instanceof interface new null package private protected public return super switch this throw true " +
    "try typeof var void while yield as let static any boolean constructor declare module require number set string symbol type async namespace"
  ).split(" "),
);

/** A schema name as a TypeScript identifier. */
export function formatName(name: string): string {
  return CLASHING.has(name.toLowerCase()) ? `${name}_` : name;
}

/** `withExec` → `WithExec`, `cache_volume` → `CacheVolume`. */
export function pascalCase(name: string): string {
  return name
    .split(/[_\-\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

export function enumMemberName(name: string): string {
  return pascalCase(name.toLowerCase());
}

/** The class a GraphQL object type becomes. */
export function className(typeName: string, queryType: string): string {
  return typeName === queryType ? "Client" : formatName(typeName);
}

/** The options type of a field with optional arguments: `ContainerWithExecOpts`, `ClientContainerOpts`. */
export function optsTypeName(parent: string, field: string, queryType: string): string {
  return `${parent === queryType ? "Client" : pascalCase(parent)}${pascalCase(field)}Opts`;
}

/** Type lookups and GraphQL → TypeScript type mapping for one schema. */
export class TypeMapper {
  readonly byName: Map<string, FullType>;
  constructor(readonly schema: Introspection) {
    this.byName = new Map(schema.types.map((t) => [t.name, t]));
  }

  kindOf(name: string): string | undefined {
    return this.byName.get(name)?.kind;
  }

  /** The object (or interface) an ID scalar names: `@expectedType(name)`, else `FooID` for an object `Foo`. */
  idTarget(scalar: string, expected: unknown): string | undefined {
    if (typeof expected === "string" && this.byName.has(expected)) return expected;
    if (scalar.endsWith("ID") && scalar !== "ID") {
      const target = scalar.slice(0, -2);
      const k = this.kindOf(target);
      if (k === "OBJECT" || k === "INTERFACE") return target;
    }
    return undefined;
  }

  /** The TypeScript type of a value the API returns. */
  output(t: TypeRef): string {
    const n = nullable(t);
    if (n.kind === "LIST" && n.ofType) return `${this.output(n.ofType)}[]`;
    const name = n.name ?? "unknown";
    switch (n.kind) {
      case "SCALAR":
        return scalarType(name);
      case "OBJECT":
        return className(name, this.schema.queryType);
      default:
        return formatName(name);
    }
  }

  /**
   * The TypeScript type of an argument or input field: object IDs take the
   * object, except the ID that `load<Object>FromID` loads (`keepIds`).
   */
  input(v: InputValue, keepIds = false): string {
    const expected = keepIds ? undefined : directiveArg(v.directives, "expectedType", "name");
    const walk = (t: TypeRef): string => {
      const n = nullable(t);
      if (n.kind === "LIST" && n.ofType) return `${walk(n.ofType)}[]`;
      const name = n.name ?? "unknown";
      if (n.kind === "SCALAR") {
        const target = BUILTIN_SCALARS.has(name) || keepIds ? undefined : this.idTarget(name, expected);
        if (target) return this.kindOf(target) === "OBJECT" ? className(target, this.schema.queryType) : formatName(target);
        return scalarType(name);
      }
      if (n.kind === "OBJECT") return className(name, this.schema.queryType);
      return formatName(name);
    };
    return walk(v.type);
  }
}

function scalarType(name: string): string {
  switch (name) {
    case "String":
      return "string";
    case "Int":
      return "number";
    case "Float":
      return "float";
    case "Boolean":
      return "boolean";
    default:
      return name;
  }
}

/** A JSDoc block from description lines (and a deprecation), indented by `indent`. */
export function docComment(indent: string, lines: string[]): string {
  const body = lines.length === 0 ? [] : lines;
  if (body.length === 0) return "";
  return [`${indent}/**`, ...body.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l.replaceAll("*/", "*\\/")}`)), `${indent} */`, ""].join("\n");
}

export function descriptionLines(description: string | null | undefined): string[] {
  const text = (description ?? "").trim();
  return text === "" ? [] : text.split("\n").map((l) => l.trimEnd());
}
