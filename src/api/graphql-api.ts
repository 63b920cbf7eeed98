/**
 * The GraphQL endpoint's core: parse, validate and execute a document against
 * the schema, and shape errors the way the official SDKs read them (an exec
 * failure becomes `extensions._type = "EXEC_ERROR"` with cmd, exitCode,
 * stdout and stderr).
 */
import {
  buildSchema,
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLInterfaceType,
  GraphQLObjectType,
  GraphQLScalarType,
  type GraphQLSchema,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import type { RequestContext } from "../core/types.js";
import { EngineError, ExecError } from "../errors.js";
import { depthLimit, MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_TOKENS, nestingDepth } from "./limits.js";
import { resolvers } from "./resolvers/index.js";
import { SDL } from "./schema/index.js";

export function buildApiSchema(): GraphQLSchema {
  const schema = buildSchema(SDL);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`resolvers for unknown type ${typeName}`);
    const defs = type.getFields();
    for (const [fieldName, fn] of Object.entries(fields)) {
      const def = defs[fieldName];
      if (!def) throw new Error(`resolver for unknown field ${typeName}.${fieldName}`);
      def.resolve = fn as GraphQLFieldResolver<unknown, RequestContext>;
    }
  }
  (schema.getType("Node") as GraphQLInterfaceType).resolveType = (value: unknown) => (value as { typename: string }).typename;
  // Custom scalars are strings on the wire (IDs, platforms), except `Void`.
  const voidType = schema.getType("Void");
  if (voidType instanceof GraphQLScalarType) voidType.serialize = () => null;
  return schema;
}

export interface QueryResponse {
  data?: unknown;
  errors?: ReadonlyArray<Record<string, unknown>>;
}

export async function runQuery(schema: GraphQLSchema, query: string, ctx: RequestContext): Promise<QueryResponse> {
  if (query.length > MAX_DOCUMENT_BYTES) {
    return { errors: [{ message: `query document is ${query.length} bytes; the limit is ${MAX_DOCUMENT_BYTES}` }] };
  }
  // Each selection level opens one brace; arguments and lists add at most a few more.
  if (nestingDepth(query) > MAX_DEPTH + 4) {
    return { errors: [{ message: `query is nested more than ${MAX_DEPTH} levels deep` }] };
  }
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: MAX_TOKENS });
  } catch (err) {
    return { errors: [formatError(err as GraphQLError)] };
  }
  const validationErrors = validate(schema, document, [...specifiedRules, depthLimit(MAX_DEPTH)]);
  if (validationErrors.length > 0) return { errors: validationErrors.map(formatError) };
  const result = (await execute({ schema, document, contextValue: ctx })) as ExecutionResult;
  return {
    ...(result.data !== undefined ? { data: result.data } : {}),
    ...(result.errors?.length ? { errors: result.errors.map(formatError) } : {}),
  };
}

function formatError(err: GraphQLError): Record<string, unknown> {
  const original = err.originalError;
  const base: Record<string, unknown> = { message: err.message };
  if (err.locations) base["locations"] = err.locations;
  if (err.path) base["path"] = err.path;
  if (original instanceof ExecError) {
    base["extensions"] = {
      _type: "EXEC_ERROR",
      cmd: original.cmd,
      exitCode: original.exitCode,
      stdout: original.stdout,
      stderr: original.stderr,
    };
  } else if (original instanceof EngineError) {
    base["extensions"] = { code: original.code };
  }
  return base;
}
