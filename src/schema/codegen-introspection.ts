/** The introspection query Dagger's code generators send (cmd/codegen/introspection/introspection.graphql). */
export const CODEGEN_INTROSPECTION_QUERY = `query IntrospectionQuery {
  __schemaVersion
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
    directives { ...DirectiveApplication }
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason directives { ...DirectiveApplication } }
  possibleTypes { ...TypeRef }
  directives { ...DirectiveApplication }
}
fragment InputValue on __InputValue {
  name description
  type { ...TypeRef }
  defaultValue isDeprecated deprecationReason
  directives { ...DirectiveApplication }
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
fragment DirectiveApplication on _DirectiveApplication { name args { name value } }
`;
