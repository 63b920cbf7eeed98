/**
 * The module API's type-definition objects, with the names, arguments and
 * defaults of Dagger's API (v0.21): TypeDef and its builders, Function,
 * FunctionArg, the *TypeDef views, SourceMap, Error.
 */
export const typeDefSDL = /* GraphQL */ `
"Kinds of types; the short names (STRING, …) are the same kinds, as the SDKs send them."
enum TypeDefKind {
  STRING_KIND INTEGER_KIND FLOAT_KIND BOOLEAN_KIND SCALAR_KIND LIST_KIND OBJECT_KIND INTERFACE_KIND INPUT_KIND VOID_KIND ENUM_KIND
  STRING INTEGER FLOAT BOOLEAN SCALAR LIST OBJECT INTERFACE INPUT VOID ENUM
}
enum FunctionCachePolicy { Default PerSession Never }

extend type Query {
  typeDef: TypeDef!
  function(name: String!, returnType: TypeDefID!): Function!
  sourceMap(filename: String!, line: Int!, column: Int!): SourceMap!
}

type TypeDef implements Node {
  id: ID!
  kind: TypeDefKind!
  optional: Boolean!
  name: String!
  asObject: ObjectTypeDef
  asInterface: InterfaceTypeDef
  asInput: InputTypeDef
  asScalar: ScalarTypeDef
  asEnum: EnumTypeDef
  asList: ListTypeDef
  withKind(kind: TypeDefKind!): TypeDef!
  withOptional(optional: Boolean!): TypeDef!
  withScalar(name: String!, description: String = ""): TypeDef!
  withListOf(elementType: TypeDefID!): TypeDef!
  withObject(name: String!, description: String = "", sourceMap: SourceMapID, deprecated: String): TypeDef!
  withInterface(name: String!, description: String = "", sourceMap: SourceMapID): TypeDef!
  withField(name: String!, typeDef: TypeDefID!, description: String = "", sourceMap: SourceMapID, deprecated: String): TypeDef!
  withFunction(function: FunctionID!): TypeDef!
  withConstructor(function: FunctionID!): TypeDef!
  withEnum(name: String!, description: String = "", sourceMap: SourceMapID): TypeDef!
  withEnumMember(name: String!, value: String = "", description: String = "", sourceMap: SourceMapID, deprecated: String): TypeDef!
  withEnumValue(value: String!, description: String = "", sourceMap: SourceMapID, deprecated: String): TypeDef!
}

type ObjectTypeDef implements Node {
  id: ID!
  name: String!
  description: String!
  fields: [FieldTypeDef!]!
  functions: [Function!]!
  constructor: Function
  sourceModuleName: String!
  sourceMap: SourceMap
  deprecated: String
}

type InterfaceTypeDef implements Node {
  id: ID!
  name: String!
  description: String!
  functions: [Function!]!
  sourceModuleName: String!
  sourceMap: SourceMap
  deprecated: String
}

type InputTypeDef implements Node {
  id: ID!
  name: String!
  fields: [FieldTypeDef!]!
}

type ScalarTypeDef implements Node {
  id: ID!
  name: String!
  description: String!
  sourceModuleName: String!
}

type ListTypeDef implements Node {
  id: ID!
  elementTypeDef: TypeDef!
}

type EnumTypeDef implements Node {
  id: ID!
  name: String!
  description: String!
  members: [EnumValueTypeDef!]!
  values: [EnumValueTypeDef!]! @deprecated(reason: "use members")
  sourceModuleName: String!
  sourceMap: SourceMap
  deprecated: String
}

type EnumValueTypeDef implements Node {
  id: ID!
  name: String!
  value: String!
  description: String!
  sourceMap: SourceMap
  deprecated: String
}

type FieldTypeDef implements Node {
  id: ID!
  name: String!
  description: String!
  typeDef: TypeDef!
  sourceMap: SourceMap
  deprecated: String
}

type Function implements Node {
  id: ID!
  name: String!
  description: String!
  args: [FunctionArg!]!
  returnType: TypeDef!
  sourceMap: SourceMap
  sourceModuleName: String!
  deprecated: String
  withDescription(description: String!): Function!
  withArg(name: String!, typeDef: TypeDefID!, description: String = "", defaultValue: JSON, defaultPath: String = "", defaultAddress: String = "", ignore: [String!] = [], sourceMap: SourceMapID, deprecated: String): Function!
  withCachePolicy(policy: FunctionCachePolicy!, timeToLive: String = ""): Function!
  withSourceMap(sourceMap: SourceMapID!): Function!
  withDeprecated(reason: String): Function!
  withCheck: Function!
  withGenerator: Function!
  withUp: Function!
}

type FunctionArg implements Node {
  id: ID!
  name: String!
  description: String!
  typeDef: TypeDef!
  defaultValue: JSON
  defaultPath: String!
  defaultAddress: String!
  ignore: [String!]!
  sourceMap: SourceMap
  deprecated: String
}

type SourceMap implements Node {
  id: ID!
  module: String!
  filename: String!
  line: Int!
  column: Int!
  url: String!
}

`;
