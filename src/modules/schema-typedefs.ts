/**
 * Core types as TypeDefs, read off the session's GraphQL schema, for
 * `currentTypeDefs(returnAllTypes: true)`: a CLI that calls a module function
 * returning a Container must know Container's functions to chain `stdout`.
 * Object arguments typed `XxxID` are object TypeDefs, as in Dagger.
 */
import {
  astFromValue,
  GraphQLEnumType,
  type GraphQLField,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLScalarType,
  type GraphQLSchema,
  print,
} from "graphql";
import type { ArgData, FunctionData, TypeDefData } from "./typedefs.js";

const PRIMITIVE: Record<string, TypeDefData["kind"]> = {
  String: "STRING_KIND",
  Int: "INTEGER_KIND",
  Float: "FLOAT_KIND",
  Boolean: "BOOLEAN_KIND",
  Void: "VOID_KIND",
};

function typeRef(schema: GraphQLSchema, t: GraphQLOutputType | GraphQLInputType, optional = true): TypeDefData {
  if (t instanceof GraphQLNonNull) return typeRef(schema, t.ofType, false);
  if (t instanceof GraphQLList) return { kind: "LIST_KIND", optional, list: typeRef(schema, t.ofType) };
  const name = t.name;
  const prim = PRIMITIVE[name];
  if (prim) return { kind: prim, optional: prim === "VOID_KIND" ? true : optional };
  if (t instanceof GraphQLEnumType)
    return { kind: "ENUM_KIND", optional, enumDef: { name, originalName: name, description: t.description ?? "", members: [] } };
  if (t instanceof GraphQLScalarType && name.endsWith("ID") && schema.getType(name.slice(0, -2)) instanceof GraphQLObjectType) {
    const obj = name.slice(0, -2);
    return { kind: "OBJECT_KIND", optional, object: { name: obj, originalName: obj, description: "", fields: [], functions: [] } };
  }
  if (t instanceof GraphQLObjectType)
    return { kind: "OBJECT_KIND", optional, object: { name, originalName: name, description: "", fields: [], functions: [] } };
  if (t instanceof GraphQLInputObjectType) return { kind: "INPUT_KIND", optional, scalar: { name, description: t.description ?? "" } };
  return { kind: "SCALAR_KIND", optional, scalar: { name, description: (t as GraphQLScalarType).description ?? "" } };
}

export function fieldFunction(schema: GraphQLSchema, f: GraphQLField<unknown, unknown>): FunctionData {
  const args: ArgData[] = f.args.map((a) => {
    const literal = a.defaultValue === undefined ? undefined : astFromValue(a.defaultValue, a.type);
    return {
      name: a.name,
      originalName: a.name,
      description: a.description ?? "",
      typeDef: typeRef(schema, a.type),
      ...(literal ? { defaultValue: a.type instanceof GraphQLEnumType ? JSON.stringify(print(literal)) : JSON.stringify(a.defaultValue) } : {}),
    };
  });
  return {
    name: f.name,
    originalName: f.name,
    description: f.description ?? "",
    args,
    returnType: typeRef(schema, f.type),
    ...(f.deprecationReason ? { deprecated: f.deprecationReason } : {}),
  };
}

/** Object and enum types of `schema` not in `skip`, as TypeDefs. */
export function schemaTypeDefs(schema: GraphQLSchema, skip: ReadonlySet<string>): TypeDefData[] {
  const out: TypeDefData[] = [];
  for (const t of Object.values(schema.getTypeMap())) {
    if (t.name.startsWith("_") || t.name === "Query" || skip.has(t.name)) continue;
    if (t instanceof GraphQLObjectType) {
      const functions = Object.values(t.getFields()).map((f) => fieldFunction(schema, f));
      out.push({
        kind: "OBJECT_KIND",
        optional: false,
        object: { name: t.name, originalName: t.name, description: t.description ?? "", fields: [], functions },
      });
    } else if (t instanceof GraphQLEnumType && !PRIMITIVE[t.name]) {
      const members = t.getValues().map((v) => ({ name: v.name, originalName: v.name, value: v.name, description: v.description ?? "" }));
      out.push({ kind: "ENUM_KIND", optional: false, enumDef: { name: t.name, originalName: t.name, description: t.description ?? "", members } });
    }
  }
  return out;
}
