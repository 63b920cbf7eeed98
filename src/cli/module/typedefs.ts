/**
 * The module's type definitions as Dagger's CLI loads them: one
 * `currentTypeDefs(returnAllTypes: true, hideCore: …)` query (the shape of
 * cmd/dagger/typedefs.graphql), turned into a model the command tree is built
 * from: objects and interfaces by name (fields count as functions without
 * arguments), enums with their members, the Query root, the main object and
 * its constructor.
 */
import { InvalidArgumentError } from "../../errors.js";
import type { TypeDefKind } from "../../modules/typedefs.js";
import { kebab, lowerCamel, pascal } from "./names.js";

export type { TypeDefKind };

const REF_NAMES = "asObject { name } asInterface { name } asInput { name } asScalar { name } asEnum { name }";

/** The query sent to load a module's (or the core API's) type definitions. */
export function typeDefsQuery(hideCore: boolean): string {
  return `fragment TypeDefRefParts on TypeDef {
  kind
  optional
  ${REF_NAMES}
  asList { elementTypeDef { kind optional ${REF_NAMES} asList { elementTypeDef { kind optional ${REF_NAMES} } } } }
}

fragment FunctionParts on Function {
  name
  description
  returnType { ...TypeDefRefParts }
  args {
    name
    description
    defaultValue
    defaultPath
    ignore
    typeDef { ...TypeDefRefParts }
  }
}

fragment FieldParts on FieldTypeDef {
  name
  description
  typeDef { ...TypeDefRefParts }
}

query TypeDefs {
  typeDefs: currentTypeDefs(returnAllTypes: true, hideCore: ${hideCore}) {
    kind
    optional
    asObject {
      name
      description
      sourceModuleName
      constructor { ...FunctionParts }
      functions { ...FunctionParts }
      fields { ...FieldParts }
    }
    asScalar { name description }
    asEnum { name description members { name description } }
    asInterface {
      name
      description
      sourceModuleName
      functions { ...FunctionParts }
    }
    asInput { name fields { ...FieldParts } }
  }
}
`;
}

/** Wire shape of a TypeDef reference (TypeDefRefParts). */
export interface TypeRefJson {
  kind: TypeDefKind;
  optional?: boolean;
  asObject?: { name: string } | null;
  asInterface?: { name: string } | null;
  asInput?: { name: string } | null;
  asScalar?: { name: string } | null;
  asEnum?: { name: string } | null;
  asList?: { elementTypeDef: TypeRefJson } | null;
}
export interface FunctionJson {
  name: string;
  description?: string | null;
  returnType: TypeRefJson;
  args?: Array<{
    name: string;
    description?: string | null;
    defaultValue?: string | null;
    defaultPath?: string | null;
    ignore?: string[] | null;
    typeDef: TypeRefJson;
  }>;
}
interface FieldJson {
  name: string;
  description?: string | null;
  typeDef: TypeRefJson;
}
export interface TypeDefJson {
  kind: TypeDefKind;
  optional?: boolean;
  asObject?: {
    name: string;
    description?: string | null;
    sourceModuleName?: string | null;
    constructor?: FunctionJson | null;
    functions?: FunctionJson[] | null;
    fields?: FieldJson[] | null;
  } | null;
  asInterface?: { name: string; description?: string | null; sourceModuleName?: string | null; functions?: FunctionJson[] | null } | null;
  asEnum?: { name: string; description?: string | null; members?: Array<{ name: string; description?: string | null }> | null } | null;
  asScalar?: { name: string; description?: string | null } | null;
  asInput?: { name: string; fields?: FieldJson[] | null } | null;
}

export interface TypeRef {
  kind: TypeDefKind;
  optional: boolean;
  /** Object, interface, input, scalar or enum name. */
  name?: string;
  /** Element type of a list. */
  elem?: TypeRef;
}
export interface FnArg {
  /** GraphQL argument name. */
  name: string;
  /** The flag: kebab-case of the name. */
  flag: string;
  description: string;
  type: TypeRef;
  /** JSON text of the default, or "" when there is none. */
  defaultValue: string;
  defaultPath: string;
  ignore: string[];
}
export interface Fn {
  /** GraphQL field name. */
  name: string;
  /** The sub-command: kebab-case of the name. */
  cmd: string;
  description: string;
  returnType: TypeRef;
  args: FnArg[];
}
export interface ObjectDef {
  kind: "OBJECT_KIND" | "INTERFACE_KIND";
  name: string;
  description: string;
  sourceModuleName: string;
  /** Fields first (as functions without arguments), then functions. */
  functions: Fn[];
}
export interface EnumDef {
  name: string;
  description: string;
  members: Array<{ name: string; description: string }>;
}
export interface ModuleModel {
  /** "" for the core API alone. */
  moduleName: string;
  objects: Map<string, ObjectDef>;
  enums: Map<string, EnumDef>;
  root: ObjectDef;
  /** The object `call` starts from: the module's main object, or Query for the core API. */
  main: ObjectDef;
  /** The Query field that builds the main object; undefined when main is Query itself. */
  constructorFn?: Fn;
}

export function typeRef(json: TypeRefJson): TypeRef {
  const name = json.asObject?.name ?? json.asInterface?.name ?? json.asInput?.name ?? json.asScalar?.name ?? json.asEnum?.name;
  const ref: TypeRef = { kind: json.kind, optional: json.optional === true };
  if (name !== undefined && name !== null) ref.name = name;
  if (json.kind === "LIST_KIND") {
    if (!json.asList?.elementTypeDef) throw new InvalidArgumentError("currentTypeDefs returned a list type without its element type");
    ref.elem = typeRef(json.asList.elementTypeDef);
  }
  return ref;
}

function toFn(json: FunctionJson): Fn {
  return {
    name: json.name,
    cmd: kebab(json.name),
    description: json.description ?? "",
    returnType: typeRef(json.returnType),
    args: (json.args ?? []).map((a) => ({
      name: a.name,
      flag: kebab(a.name),
      description: a.description ?? "",
      type: typeRef(a.typeDef),
      defaultValue: a.defaultValue ?? "",
      defaultPath: a.defaultPath ?? "",
      ignore: a.ignore ?? [],
    })),
  };
}

/** Builds the model; `moduleName` is the served module's name, "" for the core API. */
export function buildModel(typeDefs: TypeDefJson[], moduleName: string): ModuleModel {
  const objects = new Map<string, ObjectDef>();
  const enums = new Map<string, EnumDef>();
  for (const td of typeDefs) {
    if (td.kind === "OBJECT_KIND" && td.asObject) {
      const o = td.asObject;
      if (objects.has(o.name)) continue;
      const fields: Fn[] = (o.fields ?? []).map((f) => ({
        name: f.name,
        cmd: kebab(f.name),
        description: f.description ?? "",
        returnType: typeRef(f.typeDef),
        args: [],
      }));
      objects.set(o.name, {
        kind: "OBJECT_KIND",
        name: o.name,
        description: o.description ?? "",
        sourceModuleName: o.sourceModuleName ?? "",
        functions: [...fields, ...(o.functions ?? []).map(toFn)],
      });
    } else if (td.kind === "INTERFACE_KIND" && td.asInterface) {
      const i = td.asInterface;
      if (objects.has(i.name)) continue;
      objects.set(i.name, {
        kind: "INTERFACE_KIND",
        name: i.name,
        description: i.description ?? "",
        sourceModuleName: i.sourceModuleName ?? "",
        functions: (i.functions ?? []).map(toFn),
      });
    } else if (td.kind === "ENUM_KIND" && td.asEnum) {
      const e = td.asEnum;
      enums.set(e.name, {
        name: e.name,
        description: e.description ?? "",
        members: (e.members ?? []).map((m) => ({ name: m.name, description: m.description ?? "" })),
      });
    }
  }
  const root = objects.get("Query");
  if (!root) throw new InvalidArgumentError("query typedef not found in currentTypeDefs");
  if (moduleName === "") return { moduleName, objects, enums, root, main: root };

  const main = [...objects.values()].find(
    (o) => o.kind === "OBJECT_KIND" && o.sourceModuleName === moduleName && lowerCamel(o.name) === lowerCamel(moduleName),
  );
  if (!main)
    throw new InvalidArgumentError(
      `main object not found, check that your module's name (${JSON.stringify(moduleName)}) and main object (${pascal(moduleName)}) match`,
    );
  const constructorFn = root.functions.find((f) => f.name === lowerCamel(main.name) && f.returnType.name === main.name);
  if (!constructorFn)
    throw new InvalidArgumentError(`no constructor for ${main.name} in the Query type (want a field ${JSON.stringify(lowerCamel(main.name))})`);
  return { moduleName, objects, enums, root, main, constructorFn };
}

/** The object or interface a type leads to (through a list), if any. */
export function providerOf(model: ModuleModel, type: TypeRef): ObjectDef | undefined {
  const t = type.kind === "LIST_KIND" && type.elem ? type.elem : type;
  if ((t.kind === "OBJECT_KIND" || t.kind === "INTERFACE_KIND") && t.name !== undefined) return model.objects.get(t.name);
  return undefined;
}

/**
 * Non-optional without a default: the flag must be given. (An argument with a
 * defaultPath is filled from the module's context; the engine marks it
 * optional, and it is never required here either.)
 */
export const isRequired = (arg: FnArg): boolean => !arg.type.optional && arg.defaultValue === "" && arg.defaultPath === "";

/** First line of a description, or "-". */
export function shortDescription(text: string): string {
  const first = text.split("\n", 1)[0] ?? "";
  return first === "" ? "-" : first;
}

/** How a type reads in help: string, int, []string, Directory… */
export function typeString(t: TypeRef): string {
  switch (t.kind) {
    case "STRING_KIND":
      return "string";
    case "INTEGER_KIND":
      return "int";
    case "FLOAT_KIND":
      return "float";
    case "BOOLEAN_KIND":
      return "bool";
    case "VOID_KIND":
      return "void";
    case "LIST_KIND":
      return "[]" + (t.elem ? typeString(t.elem) : "?");
    default:
      return t.name ?? t.kind;
  }
}

/** Finds a function by GraphQL name or sub-command name. */
export function findFunction(obj: ObjectDef, name: string): Fn | undefined {
  return obj.functions.find((f) => f.name === name || f.cmd === name);
}
