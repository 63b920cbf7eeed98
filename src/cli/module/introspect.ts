/**
 * Core types the type definitions do not list, from the session's GraphQL
 * introspection. Dagger's `currentTypeDefs(hideCore: true)` keeps core types
 * (Container, Directory…) so that chains continue into them; when an engine
 * lists only the module's own types, this fills the gap the way Dagger's core
 * typedefs read: `XxxID` arguments and results become the object `Xxx`,
 * non-null without a default is required, enums bring their members.
 */

import { kebab } from "./names.js";
import type { GraphQL } from "./session.js";
import type { EnumDef, Fn, FnArg, ModuleModel, ObjectDef, TypeDefKind, TypeRef } from "./typedefs.js";

const TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

export const INTROSPECTION_QUERY = `query {
  __schema {
    queryType { name }
    types {
      kind
      name
      description
      fields { name description args { name description defaultValue type { ${TYPE_REF} } } type { ${TYPE_REF} } }
      enumValues { name description }
    }
  }
}`;

interface IntroType {
  kind: string;
  name: string | null;
  ofType?: IntroType | null;
}
interface IntroField {
  name: string;
  description: string | null;
  args?: Array<{ name: string; description: string | null; defaultValue: string | null; type: IntroType }>;
  type: IntroType;
}
export interface IntrospectionJson {
  __schema: {
    queryType: { name: string };
    types: Array<{
      kind: string;
      name: string;
      description: string | null;
      fields: IntroField[] | null;
      enumValues: Array<{ name: string; description: string | null }> | null;
    }>;
  };
}

const SCALARS: Record<string, TypeDefKind> = { String: "STRING_KIND", Int: "INTEGER_KIND", Float: "FLOAT_KIND", Boolean: "BOOLEAN_KIND" };

function toRef(t: IntroType, objects: ReadonlySet<string>, inputs: ReadonlySet<string>, enums: ReadonlySet<string>, nonNull = false): TypeRef {
  if (t.kind === "NON_NULL" && t.ofType) return toRef(t.ofType, objects, inputs, enums, true);
  const optional = !nonNull;
  if (t.kind === "LIST" && t.ofType) return { kind: "LIST_KIND", optional, elem: toRef(t.ofType, objects, inputs, enums) };
  const name = t.name ?? "";
  if (t.kind === "OBJECT" || t.kind === "INTERFACE") return { kind: t.kind === "OBJECT" ? "OBJECT_KIND" : "INTERFACE_KIND", optional, name };
  if (t.kind === "ENUM" || enums.has(name)) return { kind: "ENUM_KIND", optional, name };
  if (t.kind === "INPUT_OBJECT" || inputs.has(name)) return { kind: "INPUT_KIND", optional, name };
  if (SCALARS[name]) return { kind: SCALARS[name]!, optional };
  if (name === "Void") return { kind: "VOID_KIND", optional: true };
  if (name.endsWith("ID") && objects.has(name.slice(0, -2))) return { kind: "OBJECT_KIND", optional, name: name.slice(0, -2) };
  return { kind: "SCALAR_KIND", optional, name };
}

/** Object and enum definitions for every schema type, keyed by name. */
export function introspectedTypes(json: IntrospectionJson): { objects: Map<string, ObjectDef>; enums: Map<string, EnumDef> } {
  const types = json.__schema.types.filter((t) => !t.name.startsWith("__"));
  const objectNames = new Set(types.filter((t) => t.kind === "OBJECT" || t.kind === "INTERFACE").map((t) => t.name));
  const inputNames = new Set(types.filter((t) => t.kind === "INPUT_OBJECT").map((t) => t.name));
  const enumNames = new Set(types.filter((t) => t.kind === "ENUM").map((t) => t.name));
  const ref = (t: IntroType): TypeRef => toRef(t, objectNames, inputNames, enumNames);
  const objects = new Map<string, ObjectDef>();
  const enums = new Map<string, EnumDef>();
  for (const t of types) {
    if (t.kind === "ENUM") {
      enums.set(t.name, {
        name: t.name,
        description: t.description ?? "",
        members: (t.enumValues ?? []).map((v) => ({ name: v.name, description: v.description ?? "" })),
      });
      continue;
    }
    if (t.kind !== "OBJECT" && t.kind !== "INTERFACE") continue;
    const functions: Fn[] = (t.fields ?? []).map((f) => ({
      name: f.name,
      cmd: kebab(f.name),
      description: f.description ?? "",
      returnType: ref(f.type),
      args: (f.args ?? []).map(
        (a): FnArg => ({
          name: a.name,
          flag: kebab(a.name),
          description: a.description ?? "",
          type: ref(a.type),
          defaultValue: a.defaultValue ?? "",
          defaultPath: "",
          ignore: [],
        }),
      ),
    }));
    objects.set(t.name, {
      kind: t.kind === "OBJECT" ? "OBJECT_KIND" : "INTERFACE_KIND",
      name: t.name,
      description: t.description ?? "",
      sourceModuleName: "",
      functions,
    });
  }
  return { objects, enums };
}

/** Object and enum types referenced by the model's functions but not defined in it. */
export function missingTypes(model: ModuleModel): string[] {
  const missing = new Set<string>();
  const visit = (t: TypeRef): void => {
    if (t.elem) return visit(t.elem);
    if ((t.kind === "OBJECT_KIND" || t.kind === "INTERFACE_KIND") && t.name && !model.objects.has(t.name)) missing.add(t.name);
    if (t.kind === "ENUM_KIND" && t.name && !model.enums.has(t.name)) missing.add(t.name);
  };
  for (const o of model.objects.values()) {
    for (const f of o.functions) {
      visit(f.returnType);
      for (const a of f.args) visit(a.type);
    }
  }
  return [...missing].sort();
}

/**
 * Adds what the model lacks from the introspected schema: the types it refers
 * to (and, transitively, theirs); with `coreRoot`, also Query's core fields
 * when the type definitions listed none (`call -M`).
 */
export function completeModel(model: ModuleModel, json: IntrospectionJson, coreRoot: boolean): void {
  const { objects, enums } = introspectedTypes(json);
  if (coreRoot && model.root.functions.length === 0) {
    const query = objects.get(json.__schema.queryType.name);
    if (query) model.root.functions = query.functions.filter((f) => !/^load.+FromID$/.test(f.name) && f.name !== "node");
  }
  for (;;) {
    const missing = missingTypes(model).filter((n) => objects.has(n) || enums.has(n));
    if (missing.length === 0) return;
    for (const name of missing) {
      if (objects.has(name)) model.objects.set(name, objects.get(name)!);
      if (enums.has(name)) model.enums.set(name, enums.get(name)!);
    }
  }
}

/** Introspects the session's schema only when the model refers to types it lacks. */
export async function completeFromSchema(gql: GraphQL, model: ModuleModel, coreRoot: boolean): Promise<void> {
  if (missingTypes(model).length === 0 && !(coreRoot && model.root.functions.length === 0)) return;
  completeModel(model, await gql.query<IntrospectionJson>(INTROSPECTION_QUERY), coreRoot);
}
