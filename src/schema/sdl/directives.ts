/**
 * Directives of Dagger's schema: metadata that introspection reports on
 * types, fields, arguments and enum values (see introspection.ts), read by
 * the SDKs' code generators.
 */
export const directivesSDL = /* GraphQL */ `
directive @experimental(reason: String) on OBJECT | INTERFACE | FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_OBJECT | INPUT_FIELD_DEFINITION | ENUM | ENUM_VALUE | SCALAR
directive @sourceMap(module: String!, filename: String!, line: Int!, column: Int!, url: String) on OBJECT | INTERFACE | FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_OBJECT | INPUT_FIELD_DEFINITION | ENUM | ENUM_VALUE | SCALAR
directive @expectedType(name: String!) on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
directive @enumValue(value: String!) on ENUM_VALUE
directive @defaultPath(path: String!) on ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
directive @defaultAddress(address: String!) on ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
directive @ignorePatterns(patterns: [String!]!) on ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
`;
