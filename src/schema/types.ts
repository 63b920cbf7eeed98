/**
 * The schema layer: the GraphQL schema a session sees, made of parts.
 *
 * A part is some SDL (new types, `extend type X { … }`) with the resolvers
 * of the fields it adds and, for object types of its own, loaders that turn
 * an ID back into an object. The engine's core schema is a fixed list of
 * parts (see core-parts.ts); a session may add parts at run time (a module's
 * types), and its schema is rebuilt once, lazily, on the next query:
 *
 *   const schema = new SessionSchema(coreSchema);   // shares the core's build
 *   schema.extend({ name: "toy", sdl: "type Toy implements Node { id: ID! } …",
 *                   resolvers: { Toy: { … }, Query: { toy: … } },
 *                   loaders: { Toy: (id) => decodeToy(id) } });
 *   await runQuery(schema.current, { query, variables, operationName }, ctx);
 *
 * The builder adds what every object type has in Dagger's API: a `XxxID`
 * scalar, a `Query.loadXxxFromID(id: XxxID!)` field, and `@expectedType` on
 * arguments and fields that carry its ID.
 */
import type { RequestContext } from "../core/types.js";

/** A field resolver: (parent, args, context, info) → value. Parent and args are typed by each resolver. */
export type FieldResolver = (...args: never[]) => unknown;

/** Resolvers by type name, then field name. */
export type ResolverMap = Readonly<Record<string, Readonly<Record<string, FieldResolver>>>>;

/** Turns an ID of one object type back into the object (which carries `typename`); throws when the ID is not of that type. */
export type ObjectLoader = (id: string, ctx: RequestContext) => unknown;

export interface SchemaPart {
  /** Names the part in error messages. */
  readonly name: string;
  readonly sdl: string;
  readonly resolvers?: ResolverMap;
  /** Loaders for object types this part defines; types without one are loaded by the core's ID codec. */
  readonly loaders?: Readonly<Record<string, ObjectLoader>>;
}

/** A GraphQL request, as sent over HTTP. */
export interface GraphQLRequest {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
}
