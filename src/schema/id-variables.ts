/**
 * Dagger's API has one `ID` scalar next to the per-type `XxxID` scalars,
 * and clients mix them: a variable declared `$id: ID!` is passed where a
 * `ContainerID!` is expected, or the reverse. This rule replaces the
 * spec's "variables in allowed position" with one difference: ID and any
 * `…ID` scalar are compatible with each other. Everything else (nullability,
 * lists, other types) is checked as the spec says.
 */
import {
  type ASTVisitor,
  GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
  type GraphQLType,
  isListType,
  isNonNullType,
  isScalarType,
  isTypeSubTypeOf,
  Kind,
  typeFromAST,
  type ValidationContext,
  type ValueNode,
  type VariableDefinitionNode,
} from "graphql";

export function idVariablesInAllowedPosition(context: ValidationContext): ASTVisitor {
  let definitions = new Map<string, VariableDefinitionNode>();
  return {
    OperationDefinition: {
      enter() {
        definitions = new Map();
      },
      leave(operation) {
        const schema = context.getSchema();
        for (const { node, type, defaultValue } of context.getRecursiveVariableUsages(operation)) {
          const definition = definitions.get(node.name.value);
          if (!definition || !type) continue;
          const varType = typeFromAST(schema, definition.type);
          if (varType && !allowedUsage(schema, varType, definition.defaultValue, type, defaultValue)) {
            context.reportError(
              new GraphQLError(`Variable "$${node.name.value}" of type "${String(varType)}" used in position expecting type "${String(type)}".`, {
                nodes: [definition, node],
              }),
            );
          }
        }
      },
    },
    VariableDefinition(node) {
      definitions.set(node.variable.name.value, node);
    },
  };
}

function allowedUsage(
  schema: GraphQLSchema,
  varType: GraphQLType,
  varDefault: ValueNode | undefined,
  location: GraphQLInputType,
  locationDefault: unknown,
): boolean {
  if (isNonNullType(location) && !isNonNullType(varType)) {
    const nonNullVarDefault = varDefault !== undefined && varDefault.kind !== Kind.NULL;
    if (!nonNullVarDefault && locationDefault === undefined) return false;
    return compatible(schema, varType, location.ofType);
  }
  return compatible(schema, varType, location);
}

function compatible(schema: GraphQLSchema, sub: GraphQLType, sup: GraphQLType): boolean {
  if (isTypeSubTypeOf(schema, sub, sup)) return true;
  if (isNonNullType(sup)) return isNonNullType(sub) && compatible(schema, sub.ofType, sup.ofType);
  if (isNonNullType(sub)) return compatible(schema, sub.ofType, sup);
  if (isListType(sup)) return isListType(sub) && compatible(schema, sub.ofType, sup.ofType);
  if (isListType(sub)) return false;
  return isIdScalar(sub) && isIdScalar(sup);
}

const isIdScalar = (t: GraphQLType): boolean => isScalarType(t) && t.name.endsWith("ID");
