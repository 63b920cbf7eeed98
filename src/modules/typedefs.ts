/**
 * Type definitions of modules (core/typedef.go), as immutable JSON data:
 * what an SDK builds with `typeDef.withObject(…).withFunction(…)` during its
 * registration call, and what the engine serves afterwards. Builders return
 * new values; names are kept as sent (originalName) and in their GraphQL
 * form (name).
 */
import { InvalidArgumentError } from "../errors.js";
import { enumMemberName, lowerCamel, pascalCase } from "./names.js";

export type TypeDefKind =
  | "STRING_KIND"
  | "INTEGER_KIND"
  | "FLOAT_KIND"
  | "BOOLEAN_KIND"
  | "SCALAR_KIND"
  | "LIST_KIND"
  | "OBJECT_KIND"
  | "INTERFACE_KIND"
  | "INPUT_KIND"
  | "VOID_KIND"
  | "ENUM_KIND";

export interface SourceMapData {
  module: string;
  filename: string;
  line: number;
  column: number;
  url?: string;
}

interface Described {
  name: string;
  originalName: string;
  description: string;
  sourceMap?: SourceMapData;
  deprecated?: string;
}

export interface TypeDefData {
  kind: TypeDefKind;
  optional: boolean;
  object?: ObjectDefData;
  iface?: ObjectDefData;
  enumDef?: EnumDefData;
  list?: TypeDefData;
  scalar?: { name: string; description: string; sourceModuleName?: string };
}

export interface ObjectDefData extends Described {
  fields: FieldDefData[];
  functions: FunctionData[];
  /** The constructor (`ctor`, never `constructor`: every plain object has one of those). */
  ctor?: FunctionData;
  sourceModuleName?: string;
}

export interface FieldDefData extends Described {
  typeDef: TypeDefData;
}

export type CachePolicy = "Default" | "PerSession" | "Never";

export interface FunctionData extends Described {
  args: ArgData[];
  returnType: TypeDefData;
  sourceModuleName?: string;
  cachePolicy?: CachePolicy;
  /** Go duration text, with cachePolicy Default only. */
  cacheTTL?: string;
  flags?: Array<"check" | "generator" | "up">;
}

export interface ArgData extends Described {
  typeDef: TypeDefData;
  /** JSON text. */
  defaultValue?: string;
  defaultPath?: string;
  defaultAddress?: string;
  ignore?: string[];
}

export interface EnumDefData extends Described {
  members: Array<Described & { value: string }>;
  sourceModuleName?: string;
}

export const PRIMITIVE_KINDS: ReadonlySet<TypeDefKind> = new Set(["STRING_KIND", "INTEGER_KIND", "FLOAT_KIND", "BOOLEAN_KIND", "VOID_KIND"]);

export function newTypeDef(): TypeDefData {
  return { kind: "VOID_KIND", optional: false };
}

/** The name a TypeDef goes by: its object/interface/enum/scalar name, or its kind's GraphQL type. */
export function typeDefName(t: TypeDefData): string {
  switch (t.kind) {
    case "STRING_KIND":
      return "String";
    case "INTEGER_KIND":
      return "Int";
    case "FLOAT_KIND":
      return "Float";
    case "BOOLEAN_KIND":
      return "Boolean";
    case "VOID_KIND":
      return "Void";
    case "LIST_KIND":
      return `[${t.list ? typeDefName(t.list) : "?"}]`;
    case "OBJECT_KIND":
      return t.object?.name ?? "";
    case "INTERFACE_KIND":
      return t.iface?.name ?? "";
    case "ENUM_KIND":
      return t.enumDef?.name ?? "";
    case "SCALAR_KIND":
      return t.scalar?.name ?? "";
    default:
      return "";
  }
}

interface DescribeOpts {
  description?: string;
  sourceMap?: SourceMapData;
  deprecated?: string;
}

function described(name: string, gqlName: string, o: DescribeOpts): Described {
  return {
    name: gqlName,
    originalName: name,
    description: o.description ?? "",
    ...(o.sourceMap ? { sourceMap: o.sourceMap } : {}),
    ...(o.deprecated !== undefined ? { deprecated: o.deprecated } : {}),
  };
}

export const typeDefBuilders = {
  withKind: (t: TypeDefData, kind: TypeDefKind): TypeDefData => ({ ...t, kind }),
  withOptional: (t: TypeDefData, optional: boolean): TypeDefData => ({ ...t, optional }),
  withScalar: (t: TypeDefData, name: string, description = ""): TypeDefData => ({ ...t, kind: "SCALAR_KIND", scalar: { name, description } }),
  withListOf: (t: TypeDefData, element: TypeDefData): TypeDefData => ({ ...t, kind: "LIST_KIND", list: element }),
  withObject: (t: TypeDefData, name: string, o: DescribeOpts): TypeDefData => ({
    ...t,
    kind: "OBJECT_KIND",
    object: { ...described(name, pascalCase(name), o), fields: [], functions: [] },
  }),
  withInterface: (t: TypeDefData, name: string, o: DescribeOpts): TypeDefData => ({
    ...t,
    kind: "INTERFACE_KIND",
    iface: { ...described(name, pascalCase(name), o), fields: [], functions: [] },
  }),
  withEnum: (t: TypeDefData, name: string, o: DescribeOpts): TypeDefData => ({
    ...t,
    kind: "ENUM_KIND",
    enumDef: { ...described(name, pascalCase(name), o), members: [] },
  }),
  withEnumMember: (t: TypeDefData, name: string, value: string | undefined, o: DescribeOpts): TypeDefData => {
    if (!t.enumDef) throw new InvalidArgumentError(`withEnumMember(${JSON.stringify(name)}): the TypeDef is a ${t.kind}, not an enum`);
    const member = { ...described(name, enumMemberName(name), o), value: value ?? name };
    return { ...t, enumDef: { ...t.enumDef, members: [...t.enumDef.members, member] } };
  },
  withField: (t: TypeDefData, name: string, typeDef: TypeDefData, o: DescribeOpts): TypeDefData => {
    if (!t.object) throw new InvalidArgumentError(`withField(${JSON.stringify(name)}): the TypeDef is a ${t.kind}, not an object`);
    if (lowerCamel(name) === "id") throw new InvalidArgumentError(`field name "id" is reserved`);
    return { ...t, object: { ...t.object, fields: [...t.object.fields, { ...described(name, lowerCamel(name), o), typeDef }] } };
  },
  withFunction: (t: TypeDefData, fn: FunctionData): TypeDefData => {
    if (t.object) return { ...t, object: { ...t.object, functions: [...t.object.functions, fn] } };
    if (t.iface) return { ...t, iface: { ...t.iface, functions: [...t.iface.functions, fn] } };
    throw new InvalidArgumentError(`withFunction(${JSON.stringify(fn.originalName)}): the TypeDef is a ${t.kind}, not an object or interface`);
  },
  withConstructor: (t: TypeDefData, fn: FunctionData): TypeDefData => {
    if (!t.object) throw new InvalidArgumentError(`withConstructor: the TypeDef is a ${t.kind}, not an object`);
    return { ...t, object: { ...t.object, ctor: fn } };
  },
};

export function newFunction(name: string, returnType: TypeDefData): FunctionData {
  return { ...described(name, lowerCamel(name), {}), args: [], returnType };
}

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** A Go duration's length in seconds (`1h30m`, `90s`). */
export function durationSeconds(text: string): number {
  if (!DURATION.test(text)) throw new InvalidArgumentError(`invalid duration ${JSON.stringify(text)}: want e.g. "30s", "10m", "1h"`);
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

export const functionBuilders = {
  withDescription: (f: FunctionData, description: string): FunctionData => ({ ...f, description }),
  withSourceMap: (f: FunctionData, sourceMap: SourceMapData): FunctionData => ({ ...f, sourceMap }),
  withDeprecated: (f: FunctionData, reason: string | undefined): FunctionData => ({ ...f, deprecated: reason ?? "" }),
  withFlag: (f: FunctionData, flag: "check" | "generator" | "up"): FunctionData => ({ ...f, flags: [...new Set([...(f.flags ?? []), flag])] }),
  withCachePolicy: (f: FunctionData, policy: CachePolicy, ttl: string | undefined): FunctionData => {
    if (ttl && policy !== "Default") throw new InvalidArgumentError(`a cache time to live goes only with policy Default, not ${policy}`);
    if (ttl) {
      const s = durationSeconds(ttl);
      if (s === 0) return { ...f, cachePolicy: "Never" };
      if (s < 1 || s > 168 * 3600) throw new InvalidArgumentError(`cache time to live ${JSON.stringify(ttl)} must be between 1s and 168h`);
      return { ...f, cachePolicy: "Default", cacheTTL: ttl };
    }
    const { cacheTTL: _ttl, ...rest } = f;
    return { ...rest, cachePolicy: policy };
  },
  withArg: (
    f: FunctionData,
    name: string,
    typeDef: TypeDefData,
    o: DescribeOpts & { defaultValue?: string; defaultPath?: string; defaultAddress?: string; ignore?: string[] },
  ): FunctionData => {
    const defaults = [o.defaultValue, o.defaultPath, o.defaultAddress].filter((d) => d !== undefined && d !== "");
    if (defaults.length > 1)
      throw new InvalidArgumentError(`argument ${JSON.stringify(name)} may have only one of defaultValue, defaultPath and defaultAddress`);
    const arg: ArgData = {
      ...described(name, lowerCamel(name), o),
      typeDef,
      ...(o.defaultValue !== undefined ? { defaultValue: o.defaultValue } : {}),
      ...(o.defaultPath ? { defaultPath: o.defaultPath } : {}),
      ...(o.defaultAddress ? { defaultAddress: o.defaultAddress } : {}),
      ...(o.ignore && o.ignore.length > 0 ? { ignore: o.ignore } : {}),
    };
    return { ...f, args: [...f.args, arg] };
  },
};
