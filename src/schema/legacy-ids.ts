/**
 * What Dagger's API gives every object type (views before v0.22): a scalar
 * `XxxID` naming its IDs, a `Query.loadXxxFromID(id: XxxID!): Xxx!` field,
 * and `@expectedType(name: "Xxx")` on its `id: ID!` field and on every
 * argument and field typed `XxxID`. Added to the parsed SDL before the
 * schema is built, for core types and a session's own alike; what a part
 * already declares is kept.
 */
import {
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  Kind,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  parse,
  type TypeNode,
  visit,
} from "graphql";
import { InvalidArgumentError } from "../errors.js";

export const idScalarOf = (typename: string): string => `${typename}ID`;
export const loaderFieldOf = (typename: string): string => `load${typename}FromID`;

/** Object types that carry IDs: all but Query and the `_`-prefixed helper types. */
export function objectTypeNames(doc: DocumentNode): string[] {
  return doc.definitions.flatMap((d) =>
    d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value !== "Query" && !d.name.value.startsWith("_") ? [d.name.value] : [],
  );
}

export function addObjectIds(doc: DocumentNode): DocumentNode {
  const objects = objectTypeNames(doc);
  const interfaces = new Map<string, Set<string>>();
  const scalars = new Set<string>();
  const queryFields = new Set<string>();
  for (const d of doc.definitions) {
    if (d.kind === Kind.SCALAR_TYPE_DEFINITION) scalars.add(d.name.value);
    if (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const set = interfaces.get(d.name.value) ?? new Set();
      for (const i of d.interfaces ?? []) set.add(i.name.value);
      interfaces.set(d.name.value, set);
      if (d.name.value === "Query") for (const f of d.fields ?? []) queryFields.add(f.name.value);
    }
  }
  const extra: string[] = [];
  for (const t of objects) {
    if (!interfaces.get(t)?.has("Node"))
      throw new InvalidArgumentError(`object type ${t} must implement Node (declare "type ${t} implements Node { id: ID! … }")`);
    if (!scalars.has(idScalarOf(t))) extra.push(`scalar ${idScalarOf(t)}`);
    if (!queryFields.has(loaderFieldOf(t))) extra.push(`extend type Query { ${loaderFieldOf(t)}(id: ${idScalarOf(t)}!): ${t}! }`);
  }
  const definitions: DefinitionNode[] = [...doc.definitions, ...(extra.length > 0 ? parse(extra.join("\n"), { noLocation: true }).definitions : [])];
  const typeOfId = new Map(objects.map((t) => [idScalarOf(t), t]));
  const withExpectedType = <N extends FieldDefinitionNode | InputValueDefinitionNode>(node: N): N | undefined => {
    const target = typeOfId.get(namedTypeOf(node.type));
    if (target === undefined || node.directives?.some((d) => d.name.value === "expectedType")) return undefined;
    return { ...node, directives: [...(node.directives ?? []), expectedType(target)] };
  };
  // `id: ID!` of an object type names its own type.
  const ownId = (node: ObjectTypeDefinitionNode | ObjectTypeExtensionNode) => {
    if (!objects.includes(node.name.value)) return undefined;
    const fields = node.fields?.map((f) =>
      f.name.value === "id" && namedTypeOf(f.type) === "ID" && !f.directives?.some((d) => d.name.value === "expectedType")
        ? { ...f, directives: [...(f.directives ?? []), expectedType(node.name.value)] }
        : f,
    );
    return fields ? { ...node, fields } : undefined;
  };
  return visit(
    { kind: Kind.DOCUMENT, definitions },
    { ObjectTypeDefinition: ownId, ObjectTypeExtension: ownId, FieldDefinition: withExpectedType, InputValueDefinition: withExpectedType },
  );
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}

function expectedType(name: string): ConstDirectiveNode {
  return {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: "expectedType" },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "name" }, value: { kind: Kind.STRING, value: name } }],
  };
}
