/**
 * `Query.__schemaVersion: String!`, which Dagger's code generators ask for
 * next to `__schema`. graphql-js refuses `__` names in a schema, and the
 * field is not listed by introspection in Dagger either: it is taken out of
 * the operation's top-level selections before validation and its answer
 * put back into `data` afterwards.
 */
import { type DocumentNode, Kind, type OperationDefinitionNode, type SelectionNode } from "graphql";

/** The version of Dagger's API this schema follows. */
export const SCHEMA_VERSION = "v0.21.9";

const FIELD = "__schemaVersion";

export interface SchemaVersionRequest {
  readonly document: DocumentNode;
  /** Response keys asking for the version, per operation (by name, "" for an anonymous one). */
  readonly keys: ReadonlyMap<string, { readonly keys: readonly string[]; readonly first: boolean }>;
}

/** The document without top-level `__schemaVersion` fields, and where they were; `undefined` when none is asked for. */
export function takeSchemaVersion(query: string, document: DocumentNode): SchemaVersionRequest | undefined {
  if (!query.includes(FIELD)) return undefined;
  const keys = new Map<string, { keys: string[]; first: boolean }>();
  const isVersion = (s: SelectionNode): boolean => s.kind === Kind.FIELD && s.name.value === FIELD && !s.selectionSet && !s.arguments?.length;
  const definitions = document.definitions.map((d) => {
    if (d.kind !== Kind.OPERATION_DEFINITION || d.operation !== "query" || !d.selectionSet.selections.some(isVersion)) return d;
    const taken = d.selectionSet.selections.filter(isVersion).map((s) => (s.kind === Kind.FIELD ? (s.alias ?? s.name).value : FIELD));
    keys.set(d.name?.value ?? "", { keys: taken, first: isVersion(d.selectionSet.selections[0]!) });
    const op: OperationDefinitionNode = { ...d, selectionSet: { ...d.selectionSet, selections: d.selectionSet.selections.filter((s) => !isVersion(s)) } };
    return op;
  });
  return keys.size === 0 ? undefined : { document: { ...document, definitions }, keys };
}

/** `data` with the version under the keys the executed operation asked for. */
export function answerSchemaVersion(request: SchemaVersionRequest, operationName: string | undefined, data: Record<string, unknown>): Record<string, unknown> {
  const asked = request.keys.get(operationName ?? onlyOperationName(request.document));
  if (!asked) return data;
  const version = Object.fromEntries(asked.keys.map((k) => [k, SCHEMA_VERSION]));
  return asked.first ? { ...version, ...data } : { ...data, ...version };
}

function onlyOperationName(document: DocumentNode): string {
  const ops = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  return ops.length === 1 ? (ops[0]!.name?.value ?? "") : "\0";
}
