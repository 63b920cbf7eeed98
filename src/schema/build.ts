/**
 * Building an executable schema from parts: their SDL joined (with the
 * per-type IDs and loaders of legacy-ids.ts), their resolvers wired, and
 * the object registry behind `node(id:)` and `loadXxxFromID`.
 */
import {
  buildASTSchema,
  type DefinitionNode,
  type GraphQLFieldResolver,
  GraphQLInterfaceType,
  GraphQLObjectType,
  GraphQLScalarType,
  type GraphQLSchema,
  Kind,
} from "graphql";
import { loadObject } from "../api/objects.js";
import { decodeId } from "../core/ids.js";
import type { RequestContext } from "../core/types.js";
import { InvalidArgumentError, messageOf } from "../errors.js";
import { installIntrospectionExtensions } from "./introspection.js";
import { addObjectIds, idScalarOf, loaderFieldOf, objectTypeNames } from "./legacy-ids.js";
import { definitionsOf } from "./parsed-sdl.js";
import type { ObjectLoader, SchemaPart } from "./types.js";

export interface BuiltSchema {
  readonly schema: GraphQLSchema;
  readonly parts: readonly SchemaPart[];
  /** Object types carrying IDs, each with a `loadXxxFromID` field. */
  readonly objectTypes: readonly string[];
}

export interface BuildOptions {
  /**
   * The parts are the engine's own, checked by its tests (base-parts.test.ts builds them
   * without this): skip graphql's SDL and schema validation, ~40% of building the core
   * schema at start and part of the first query.
   */
  readonly trusted?: boolean;
}

export function buildApiSchema(parts: readonly SchemaPart[], opts: BuildOptions = {}): BuiltSchema {
  installIntrospectionExtensions();
  const definitions: DefinitionNode[] = [];
  for (const part of parts) {
    try {
      definitions.push(...definitionsOf(part.sdl));
    } catch (err) {
      throw new InvalidArgumentError(`schema part "${part.name}": ${messageOf(err)}`, { cause: err });
    }
  }
  const document = addObjectIds({ kind: Kind.DOCUMENT, definitions });
  const objectTypes = objectTypeNames(document);
  let schema: GraphQLSchema;
  try {
    schema = buildASTSchema(document, { assumeValidSDL: opts.trusted === true, assumeValid: opts.trusted === true });
  } catch (err) {
    throw new InvalidArgumentError(`schema parts ${parts.map((p) => `"${p.name}"`).join(", ")} do not form a valid schema: ${messageOf(err)}`, { cause: err });
  }

  const wired = new Map<string, string>();
  for (const part of parts) {
    for (const [typeName, fields] of Object.entries(part.resolvers ?? {})) {
      const type = schema.getType(typeName);
      if (!(type instanceof GraphQLObjectType)) throw new InvalidArgumentError(`schema part "${part.name}" has resolvers for ${typeName}, not an object type`);
      const defs = type.getFields();
      for (const [fieldName, fn] of Object.entries(fields)) {
        const def = defs[fieldName];
        const key = `${typeName}.${fieldName}`;
        if (!def) throw new InvalidArgumentError(`schema part "${part.name}" has a resolver for unknown field ${key}`);
        if (wired.has(key)) throw new InvalidArgumentError(`field ${key} is resolved by both part "${wired.get(key)}" and part "${part.name}"`);
        wired.set(key, part.name);
        def.resolve = fn as GraphQLFieldResolver<unknown, RequestContext>;
      }
    }
  }
  wireLoaders(schema, parts, objectTypes, wired);

  const node = schema.getType("Node");
  if (!(node instanceof GraphQLInterfaceType)) throw new InvalidArgumentError("the schema has no interface Node");
  node.resolveType = (value: unknown) => (value as { typename?: string }).typename;
  // Custom scalars are strings on the wire (IDs, platforms), except `Void`.
  const voidType = schema.getType("Void");
  if (voidType instanceof GraphQLScalarType) voidType.serialize = () => null;
  return { schema, parts, objectTypes };
}

/**
 * `loadXxxFromID` and `node(id:)`: core object types are decoded by the
 * core's ID codec; a part's own types by the loaders it brings.
 */
function wireLoaders(schema: GraphQLSchema, parts: readonly SchemaPart[], objectTypes: readonly string[], wired: Map<string, string>): void {
  const own = new Map<string, ObjectLoader>();
  for (const part of parts) {
    for (const [typeName, load] of Object.entries(part.loaders ?? {})) {
      if (!objectTypes.includes(typeName)) throw new InvalidArgumentError(`schema part "${part.name}" has a loader for ${typeName}, not an object type`);
      if (own.has(typeName)) throw new InvalidArgumentError(`object type ${typeName} has loaders in two parts`);
      own.set(typeName, load);
    }
  }
  const query = schema.getQueryType()!.getFields();
  for (const typeName of objectTypes) {
    const field = query[loaderFieldOf(typeName)]!;
    if (wired.has(`Query.${field.name}`)) {
      throw new InvalidArgumentError(
        `Query.${field.name} is wired by the builder: give part "${wired.get(`Query.${field.name}`)}" a loader for ${typeName} instead`,
      );
    }
    const load = own.get(typeName);
    field.resolve = load
      ? (_: unknown, a: Record<string, unknown>, ctx: RequestContext) => load(a["id"] as string, ctx)
      : (_: unknown, a: Record<string, unknown>) => loadObject(a["id"] as string, typeName);
    if (!(schema.getType(idScalarOf(typeName)) instanceof GraphQLScalarType)) throw new InvalidArgumentError(`${idScalarOf(typeName)} must be a scalar`);
  }
  const nodeField = query["node"];
  if (!nodeField) return;
  if (wired.has("Query.node")) throw new InvalidArgumentError(`Query.node is wired by the builder: part "${wired.get("Query.node")}" may not resolve it`);
  const loaders = [...own.values()];
  nodeField.resolve =
    loaders.length === 0
      ? (_: unknown, a: Record<string, unknown>) => loadObject(a["id"] as string)
      : async (_: unknown, a: Record<string, unknown>, ctx: RequestContext) => {
          const id = a["id"] as string;
          try {
            return loadObject(id);
          } catch (coreError) {
            // The loader of the ID's own type first: another type's loader may accept it too (an interface's takes its implementations).
            const mine = own.get(typenameOf(id));
            if (mine) return await mine(id, ctx);
            for (const load of loaders) {
              try {
                return await load(id, ctx);
              } catch {
                // Not this type's ID: try the next.
              }
            }
            throw coreError;
          }
        };
}

/** The type an ID names, or "" when it is not one of the codec's. */
function typenameOf(id: string): string {
  try {
    return decodeId(id).typename;
  } catch {
    return "";
  }
}
