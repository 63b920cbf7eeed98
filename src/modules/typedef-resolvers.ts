/** Resolvers of the type-definition objects: reads of their data, builders returning new values. */
import { type Args, bool, optStr, str, strList } from "../api/resolvers/args.js";
import { InvalidArgumentError } from "../errors.js";
import {
  type CachePolicy,
  type FunctionData,
  functionBuilders,
  newFunction,
  newTypeDef,
  type SourceMapData,
  type TypeDefData,
  type TypeDefKind,
  typeDefBuilders,
  typeDefName,
} from "./typedefs.js";
import { loadValue, ModValue } from "./values.js";

type V<T> = ModValue<T>;
const val = <T>(typename: string, data: T): V<T> => new ModValue(typename, data);
const typeDef = (data: TypeDefData): V<TypeDefData> => val("TypeDef", data);
const fn = (data: FunctionData): V<FunctionData> => val("Function", data);
const typeDefArg = (a: Args, k: string): TypeDefData => loadValue<TypeDefData>(a[k], "TypeDef").data;
const fnArg = (a: Args, k: string): FunctionData => loadValue<FunctionData>(a[k], "Function").data;
const sourceMapArg = (a: Args): SourceMapData | undefined => (a["sourceMap"] ? loadValue<SourceMapData>(a["sourceMap"], "SourceMap").data : undefined);
const describeArgs = (a: Args) => {
  const sourceMap = sourceMapArg(a);
  const deprecated = optStr(a, "deprecated");
  return { description: optStr(a, "description") ?? "", ...(sourceMap ? { sourceMap } : {}), ...(deprecated !== undefined ? { deprecated } : {}) };
};
const id = (x: V<unknown>): string => x.id;
/** TypeDefKind as sent: `STRING` and `STRING_KIND` name the same kind. */
const kindArg = (k: string): TypeDefKind => (k.endsWith("_KIND") ? k : `${k}_KIND`) as TypeDefKind;
const sourceMapOf = (d: { sourceMap?: SourceMapData }): V<SourceMapData> | null => (d.sourceMap ? val("SourceMap", d.sourceMap) : null);

/** Reads of name/description/sourceMap/deprecated, shared by the described types. */
const describedReads = {
  id,
  name: (x: V<{ name: string }>) => x.data.name,
  description: (x: V<{ description: string }>) => x.data.description,
  sourceMap: (x: V<{ sourceMap?: SourceMapData }>) => sourceMapOf(x.data),
  deprecated: (x: V<{ deprecated?: string }>) => x.data.deprecated ?? null,
};

export const typeDefQueryResolvers = {
  typeDef: () => typeDef(newTypeDef()),
  function: (_: unknown, a: Args) => fn(newFunction(str(a, "name"), typeDefArg(a, "returnType"))),
  sourceMap: (_: unknown, a: Args) =>
    val<SourceMapData>("SourceMap", { module: "", filename: str(a, "filename"), line: a["line"] as number, column: a["column"] as number }),
};

export const typeDefResolvers = {
  TypeDef: {
    id,
    kind: (t: V<TypeDefData>) => t.data.kind,
    optional: (t: V<TypeDefData>) => t.data.optional,
    name: (t: V<TypeDefData>) => typeDefName(t.data),
    asObject: (t: V<TypeDefData>) => (t.data.object ? val("ObjectTypeDef", t.data.object) : null),
    asInterface: (t: V<TypeDefData>) => (t.data.iface ? val("InterfaceTypeDef", t.data.iface) : null),
    asInput: () => null,
    asScalar: (t: V<TypeDefData>) => (t.data.scalar ? val("ScalarTypeDef", t.data.scalar) : null),
    asEnum: (t: V<TypeDefData>) => (t.data.enumDef ? val("EnumTypeDef", t.data.enumDef) : null),
    asList: (t: V<TypeDefData>) => (t.data.list ? val("ListTypeDef", { elementTypeDef: t.data.list }) : null),
    withKind: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withKind(t.data, kindArg(str(a, "kind")))),
    withOptional: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withOptional(t.data, bool(a, "optional"))),
    withScalar: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withScalar(t.data, str(a, "name"), optStr(a, "description") ?? "")),
    withListOf: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withListOf(t.data, typeDefArg(a, "elementType"))),
    withObject: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withObject(t.data, str(a, "name"), describeArgs(a))),
    withInterface: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withInterface(t.data, str(a, "name"), describeArgs(a))),
    withEnum: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withEnum(t.data, str(a, "name"), describeArgs(a))),
    withEnumMember: (t: V<TypeDefData>, a: Args) =>
      typeDef(typeDefBuilders.withEnumMember(t.data, str(a, "name"), optStr(a, "value") || undefined, describeArgs(a))),
    withEnumValue: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withEnumMember(t.data, str(a, "value"), str(a, "value"), describeArgs(a))),
    withField: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withField(t.data, str(a, "name"), typeDefArg(a, "typeDef"), describeArgs(a))),
    withFunction: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withFunction(t.data, fnArg(a, "function"))),
    withConstructor: (t: V<TypeDefData>, a: Args) => typeDef(typeDefBuilders.withConstructor(t.data, fnArg(a, "function"))),
  },
  ObjectTypeDef: {
    ...describedReads,
    fields: (o: V<TypeDefData["object"] & object>) => o.data.fields.map((f) => val("FieldTypeDef", f)),
    functions: (o: V<TypeDefData["object"] & object>) => o.data.functions.map(fn),
    constructor: (o: V<TypeDefData["object"] & object>) => (o.data.ctor ? fn(o.data.ctor) : null),
    sourceModuleName: (o: V<{ sourceModuleName?: string }>) => o.data.sourceModuleName ?? "",
  },
  InterfaceTypeDef: {
    ...describedReads,
    functions: (o: V<TypeDefData["object"] & object>) => o.data.functions.map(fn),
    sourceModuleName: (o: V<{ sourceModuleName?: string }>) => o.data.sourceModuleName ?? "",
  },
  InputTypeDef: { id, name: () => "", fields: () => [] },
  ScalarTypeDef: {
    id,
    name: (s: V<{ name: string }>) => s.data.name,
    description: (s: V<{ description: string }>) => s.data.description,
    sourceModuleName: (o: V<{ sourceModuleName?: string }>) => o.data.sourceModuleName ?? "",
  },
  ListTypeDef: { id, elementTypeDef: (l: V<{ elementTypeDef: TypeDefData }>) => typeDef(l.data.elementTypeDef) },
  EnumTypeDef: {
    ...describedReads,
    members: (e: V<TypeDefData["enumDef"] & object>) => e.data.members.map((m) => val("EnumValueTypeDef", m)),
    values: (e: V<TypeDefData["enumDef"] & object>) => e.data.members.map((m) => val("EnumValueTypeDef", m)),
    sourceModuleName: (o: V<{ sourceModuleName?: string }>) => o.data.sourceModuleName ?? "",
  },
  EnumValueTypeDef: { ...describedReads, value: (m: V<{ value: string }>) => m.data.value },
  FieldTypeDef: { ...describedReads, typeDef: (f: V<{ typeDef: TypeDefData }>) => typeDef(f.data.typeDef) },
  Function: {
    ...describedReads,
    args: (f: V<FunctionData>) => f.data.args.map((x) => val("FunctionArg", x)),
    returnType: (f: V<FunctionData>) => typeDef(f.data.returnType),
    sourceModuleName: (f: V<FunctionData>) => f.data.sourceModuleName ?? "",
    withDescription: (f: V<FunctionData>, a: Args) => fn(functionBuilders.withDescription(f.data, str(a, "description"))),
    withSourceMap: (f: V<FunctionData>, a: Args) => fn(functionBuilders.withSourceMap(f.data, sourceMapArg(a)!)),
    withDeprecated: (f: V<FunctionData>, a: Args) => fn(functionBuilders.withDeprecated(f.data, optStr(a, "reason"))),
    withCheck: (f: V<FunctionData>) => fn(functionBuilders.withFlag(f.data, "check")),
    withGenerator: (f: V<FunctionData>) => fn(functionBuilders.withFlag(f.data, "generator")),
    withUp: (f: V<FunctionData>) => fn(functionBuilders.withFlag(f.data, "up")),
    withCachePolicy: (f: V<FunctionData>, a: Args) =>
      fn(functionBuilders.withCachePolicy(f.data, str(a, "policy") as CachePolicy, optStr(a, "timeToLive") || undefined)),
    withArg: (f: V<FunctionData>, a: Args) => {
      const defaultValue = a["defaultValue"];
      if (defaultValue !== undefined && defaultValue !== null && typeof defaultValue !== "string") {
        throw new InvalidArgumentError(`withArg(${JSON.stringify(str(a, "name"))}): defaultValue must be JSON text`);
      }
      const defaultPath = optStr(a, "defaultPath");
      const defaultAddress = optStr(a, "defaultAddress");
      return fn(
        functionBuilders.withArg(f.data, str(a, "name"), typeDefArg(a, "typeDef"), {
          ...describeArgs(a),
          ...(typeof defaultValue === "string" ? { defaultValue } : {}),
          ...(defaultPath ? { defaultPath } : {}),
          ...(defaultAddress ? { defaultAddress } : {}),
          ignore: strList(a, "ignore"),
        }),
      );
    },
  },
  FunctionArg: {
    ...describedReads,
    typeDef: (x: V<{ typeDef: TypeDefData }>) => typeDef(x.data.typeDef),
    defaultValue: (x: V<{ defaultValue?: string }>) => x.data.defaultValue ?? null,
    defaultPath: (x: V<{ defaultPath?: string }>) => x.data.defaultPath ?? "",
    defaultAddress: (x: V<{ defaultAddress?: string }>) => x.data.defaultAddress ?? "",
    ignore: (x: V<{ ignore?: string[] }>) => x.data.ignore ?? [],
  },
  SourceMap: {
    id,
    module: (s: V<SourceMapData>) => s.data.module,
    filename: (s: V<SourceMapData>) => s.data.filename,
    line: (s: V<SourceMapData>) => s.data.line,
    column: (s: V<SourceMapData>) => s.data.column,
    url: (s: V<SourceMapData>) => s.data.url ?? "",
  },
};

/** A JSON argument as its text (SDKs send JSON scalars as strings holding JSON). */
export function jsonText(v: unknown): string {
  if (typeof v !== "string") return JSON.stringify(v ?? null);
  try {
    JSON.parse(v);
    return v;
  } catch {
    throw new InvalidArgumentError(`invalid JSON value ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`);
  }
}
