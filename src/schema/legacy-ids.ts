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
  parse,
  type TypeNode,
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
    if (target === undefined || hasExpectedType(node)) return undefined;
    return { ...node, directives: [...(node.directives ?? []), expectedType(target)] };
  };
  const withArgs = (args: readonly InputValueDefinitionNode[] | undefined) => args?.map((a) => withExpectedType(a) ?? a);
  // `id: ID!` of an object type names its own type.
  const field = (f: FieldDefinitionNode, owner: string | undefined): FieldDefinitionNode => {
    const own = owner !== undefined && f.name.value === "id" && namedTypeOf(f.type) === "ID" && !hasExpectedType(f);
    const typed = own ? { ...f, directives: [...(f.directives ?? []), expectedType(owner)] } : (withExpectedType(f) ?? f);
    const args = withArgs(f.arguments);
    return args ? { ...typed, arguments: args } : typed;
  };
  const objectSet = new Set(objects);
  // A direct walk over the kinds that hold fields and arguments: graphql's generic
  // visit() took ~50 ms of every engine start here.
  const rewritten = definitions.map((d): DefinitionNode => {
    switch (d.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION: {
        const owner = d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION ? d.name.value : undefined;
        return d.fields ? { ...d, fields: d.fields.map((f) => field(f, owner !== undefined && objectSet.has(owner) ? owner : undefined)) } : d;
      }
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        return d.fields ? { ...d, fields: withArgs(d.fields) ?? [] } : d;
      case Kind.DIRECTIVE_DEFINITION:
        return d.arguments ? { ...d, arguments: withArgs(d.arguments) ?? [] } : d;
      default:
        return d;
    }
  });
  return { kind: Kind.DOCUMENT, definitions: rewritten };
}

function hasExpectedType(node: FieldDefinitionNode | InputValueDefinitionNode): boolean {
  return node.directives?.some((d) => d.name.value === "expectedType") ?? false;
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
