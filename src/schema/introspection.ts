/**
 * Introspection as Dagger's code generators read it, beyond the spec:
 * `directives: [_DirectiveApplication!]!` on `__Type`, `__Field`,
 * `__InputValue` and `__EnumValue` (the directives applied in the SDL,
 * sorted by name, argument values as GraphQL literal text), and
 * `Query.__schemaVersion` (see schema-version.ts).
 *
 * graphql-js resolves `__schema` and `__type` through its own singleton
 * introspection types, whatever the schema; the `directives` fields are
 * therefore added to those singletons, once per process, before any schema
 * is built (every schema built after it also holds the two helper types).
 * The helper types are left out of `__schema.types`: a client rebuilding the
 * schema from introspection in this process (`buildClientSchema`) would
 * otherwise define them twice.
 */
import {
  __EnumValue,
  __Field,
  __InputValue,
  __Schema,
  __Type,
  type ASTNode,
  type DirectiveNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  GraphQLList,
  type GraphQLNamedType,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLString,
  print,
} from "graphql";

export interface DirectiveApplication {
  readonly name: string;
  readonly args: ReadonlyArray<{ readonly name: string; readonly value: string | null }>;
}

const DirectiveApplicationArgType = new GraphQLObjectType({
  name: "_DirectiveApplicationArg",
  description: "An argument of a directive applied in the schema; `value` is its GraphQL literal.",
  fields: { name: { type: new GraphQLNonNull(GraphQLString) }, value: { type: GraphQLString } },
});

const DirectiveApplicationType = new GraphQLObjectType({
  name: "_DirectiveApplication",
  description: "A directive applied to a type, field, argument or enum value in the schema.",
  fields: {
    name: { type: new GraphQLNonNull(GraphQLString) },
    args: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(DirectiveApplicationArgType))) },
  },
});

const HIDDEN_TYPES = new Set([DirectiveApplicationType.name, DirectiveApplicationArgType.name]);

type WithAst = { readonly astNode?: ASTNode | null | undefined; readonly extensionASTNodes?: ReadonlyArray<ASTNode> };

/** The directives applied to a schema element, from its SDL definition and extensions, sorted by name. */
export function directiveApplications(element: WithAst): DirectiveApplication[] {
  const nodes = [element.astNode, ...(element.extensionASTNodes ?? [])];
  const applied = nodes.flatMap((n) => (n as { directives?: ReadonlyArray<DirectiveNode> } | null | undefined)?.directives ?? []);
  return applied
    .map((d) => ({ name: d.name.value, args: (d.arguments ?? []).map((a) => ({ name: a.name.value, value: print(a.value) })) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

let installed = false;

/** Adds the `directives` fields to graphql-js's introspection types (idempotent). */
export function installIntrospectionExtensions(): void {
  if (installed) return;
  installed = true;
  for (const type of [__Type, __Field, __InputValue, __EnumValue]) {
    const fields = type.getFields();
    fields["directives"] = directivesField();
  }
  const types = __Schema.getFields()["types"]!;
  const listTypes = types.resolve!;
  types.resolve = (schema, args, ctx, info) => (listTypes(schema, args, ctx, info) as GraphQLNamedType[]).filter((t) => !HIDDEN_TYPES.has(t.name));
}

function directivesField(): GraphQLField<unknown, unknown> {
  const resolve: GraphQLFieldResolver<WithAst, unknown> = (source) => directiveApplications(source);
  return {
    name: "directives",
    description: "Directives applied to this element in the schema, sorted by name.",
    type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(DirectiveApplicationType))),
    args: [],
    resolve: resolve as GraphQLFieldResolver<unknown, unknown>,
    deprecationReason: undefined,
    extensions: {},
    astNode: undefined,
  };
}
