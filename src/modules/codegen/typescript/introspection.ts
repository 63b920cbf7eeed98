/**
 * Dagger's introspection JSON as the TypeScript generator reads it
 * (MODULES.md §10): `{"__schemaVersion", "__schema": {types, …}}`, with
 * directive applications on types, fields, arguments and enum values. The
 * helpers answer the questions the generator asks of a type reference.
 */
import { InvalidArgumentError } from "../../../errors.js";

export interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}

export interface DirectiveApplication {
  name: string;
  args: Array<{ name: string; value: string | null }>;
}

export interface InputValue {
  name: string;
  description: string | null;
  type: TypeRef;
  defaultValue: string | null;
  isDeprecated?: boolean;
  deprecationReason?: string | null;
  directives?: DirectiveApplication[];
}

export interface Field {
  name: string;
  description: string | null;
  args: InputValue[];
  type: TypeRef;
  isDeprecated: boolean;
  deprecationReason: string | null;
  directives?: DirectiveApplication[];
}

export interface EnumValue {
  name: string;
  description: string | null;
  isDeprecated: boolean;
  deprecationReason: string | null;
  directives?: DirectiveApplication[];
}

export interface FullType {
  kind: string;
  name: string;
  description: string | null;
  fields: Field[] | null;
  inputFields: InputValue[] | null;
  enumValues: EnumValue[] | null;
  directives?: DirectiveApplication[];
}

export interface Introspection {
  schemaVersion: string;
  queryType: string;
  types: FullType[];
}

/** Parse the engine's introspection JSON; the `data` object itself or wrapped in `{data}`. */
export function parseIntrospection(json: string): Introspection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new InvalidArgumentError(`introspection JSON does not parse: ${(err as Error).message}`);
  }
  const root = (parsed as { data?: unknown }).data ?? parsed;
  const schema = (root as { __schema?: { queryType?: { name: string }; types?: FullType[] } }).__schema;
  if (!schema?.types) throw new InvalidArgumentError('introspection JSON has no "__schema.types"');
  return {
    schemaVersion: (root as { __schemaVersion?: string }).__schemaVersion ?? "",
    queryType: schema.queryType?.name ?? "Query",
    types: schema.types.filter((t) => !t.name.startsWith("__")),
  };
}

/** The type without its NON_NULL wrapper. */
export function nullable(t: TypeRef): TypeRef {
  return t.kind === "NON_NULL" && t.ofType ? t.ofType : t;
}

export function isOptional(t: TypeRef): boolean {
  return t.kind !== "NON_NULL";
}

/** The named type under any list and NON_NULL wrappers. */
export function namedType(t: TypeRef): TypeRef {
  let cur = t;
  while ((cur.kind === "NON_NULL" || cur.kind === "LIST") && cur.ofType) cur = cur.ofType;
  return cur;
}

export function isList(t: TypeRef): boolean {
  return nullable(t).kind === "LIST";
}

/** A scalar or enum, not in a list: what the generated classes may hold pre-filled. */
export function isLeaf(t: TypeRef): boolean {
  const k = nullable(t).kind;
  return k === "SCALAR" || k === "ENUM";
}

export const BUILTIN_SCALARS = new Set(["String", "Int", "Float", "Boolean"]);

/** The value of `@name(arg: …)` on an element, JSON-decoded (`"Container"` → Container). */
export function directiveArg(directives: DirectiveApplication[] | undefined, name: string, arg: string): unknown {
  const raw = directives?.find((d) => d.name === name)?.args.find((a) => a.name === arg)?.value;
  if (raw === undefined || raw === null) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
