/**
 * The GraphQL endpoint's core: parse, validate and execute a request
 * (`query`, `variables`, `operationName`) against a session's schema.
 */
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLError,
  type GraphQLSchema,
  parse,
  specifiedRules,
  VariablesInAllowedPositionRule,
  validate,
} from "graphql";
import { LRUCache } from "lru-cache";
import { formatError, type QueryResponse } from "../api/format-error.js";
import { depthLimit, MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_TOKENS, nestingDepth } from "../api/limits.js";
import type { RequestContext } from "../core/types.js";
import type { BuiltSchema } from "./build.js";
import { idVariablesInAllowedPosition } from "./id-variables.js";
import { answerSchemaVersion, type SchemaVersionRequest, takeSchemaVersion } from "./schema-version.js";
import type { GraphQLRequest } from "./types.js";

export type { QueryResponse } from "../api/format-error.js";

const RULES = [...specifiedRules.map((rule) => (rule === VariablesInAllowedPositionRule ? idVariablesInAllowedPosition : rule)), depthLimit(MAX_DEPTH)];

/**
 * Documents that parsed and passed validation against a schema, by their text: clients send the
 * same ones again and again (an SDK's chains re-sent from the root, `tanto query` runs of one file),
 * and validating a 20-step chain is most of the work of answering it from the cache. graphql-js
 * never changes a document. Small documents only, least recently used out, within a budget of
 * text per schema (a document's tree is some tens of times its text).
 */
const validated = new WeakMap<GraphQLSchema, LRUCache<string, DocumentNode>>();
const VALIDATED_MAX_BYTES = 16 << 10;
const VALIDATED_BUDGET_BYTES = 256 << 10;

function rememberValid(schema: GraphQLSchema, query: string, document: DocumentNode): void {
  if (query.length > VALIDATED_MAX_BYTES) return;
  let docs = validated.get(schema);
  if (!docs)
    validated.set(schema, (docs = new LRUCache({ max: 256, maxSize: VALIDATED_BUDGET_BYTES, sizeCalculation: (_, text) => Math.max(1, text.length) })));
  docs.set(query, document);
}

export async function runQuery(built: BuiltSchema, request: GraphQLRequest, ctx: RequestContext): Promise<QueryResponse> {
  const { query } = request;
  if (query.length > MAX_DOCUMENT_BYTES) {
    return { errors: [{ message: `query document is ${query.length} bytes; the limit is ${MAX_DOCUMENT_BYTES}` }] };
  }
  // Each selection level opens one brace; arguments and lists add at most a few more.
  if (nestingDepth(query) > MAX_DEPTH + 4) {
    return { errors: [{ message: `query is nested more than ${MAX_DEPTH} levels deep` }] };
  }
  let document = validated.get(built.schema)?.get(query);
  const known = document !== undefined;
  if (document === undefined) {
    try {
      document = parse(query, { maxTokens: MAX_TOKENS });
    } catch (err) {
      return { errors: [formatError(err as GraphQLError)] };
    }
  }
  const version: SchemaVersionRequest | undefined = takeSchemaVersion(query, document);
  if (version) document = version.document;
  if (!known) {
    const validationErrors = validate(built.schema, document, RULES);
    if (validationErrors.length > 0) return { errors: validationErrors.map(formatError) };
    if (!version) rememberValid(built.schema, query, document);
  }
  const operationName = request.operationName ?? undefined;
  const result = (await execute({
    schema: built.schema,
    document,
    contextValue: ctx,
    ...(request.variables ? { variableValues: request.variables } : {}),
    ...(operationName !== undefined ? { operationName } : {}),
  })) as ExecutionResult;
  const data = version && result.data ? answerSchemaVersion(version, operationName, result.data) : result.data;
  return {
    ...(data !== undefined ? { data } : {}),
    ...(result.errors?.length ? { errors: result.errors.map(formatError) } : {}),
  };
}

/** Reads `{query, variables, operationName}` from a request body; a message naming what is wrong otherwise. */
export function parseRequest(body: unknown): GraphQLRequest | string {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b["query"] !== "string") return 'request body needs a "query" string';
  const variables = b["variables"];
  if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) {
    return `"variables" must be a JSON object, not ${JSON.stringify(variables)}`;
  }
  const operationName = b["operationName"];
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") {
    return `"operationName" must be a string, not ${JSON.stringify(operationName)}`;
  }
  return {
    query: b["query"],
    ...(variables ? { variables: variables as Record<string, unknown> } : {}),
    ...(typeof operationName === "string" ? { operationName } : {}),
  };
}
