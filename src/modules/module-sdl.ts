/** Modules, module sources and a module's view of itself, as in Dagger's API (v0.21). */
export const moduleSDL = /* GraphQL */ `
enum ModuleSourceKind { LOCAL_SOURCE GIT_SOURCE DIR_SOURCE LOCAL GIT DIR }

extend type Query {
  module: Module!
  moduleSource(refString: String!, refPin: String = "", disableFindUp: Boolean = false, allowNotExists: Boolean = false, requireKind: ModuleSourceKind): ModuleSource!
  currentModule: CurrentModule!
  currentFunctionCall: FunctionCall!
  currentTypeDefs(returnAllTypes: Boolean = false, hideCore: Boolean = false): [TypeDef!]!
}

extend type Directory {
  asModule(sourceRootPath: String = "."): Module!
  asModuleSource(sourceRootPath: String = "."): ModuleSource!
}

type Module implements Node {
  id: ID!
  name: String!
  description: String!
  sdk: SDKConfig
  source: ModuleSource
  objects: [TypeDef!]!
  interfaces: [TypeDef!]!
  enums: [TypeDef!]!
  dependencies: [Module!]!
  runtime: Container
  introspectionSchemaJSON: File!
  generatedContextDirectory: Directory!
  serve(includeDependencies: Boolean = false): Void
  sync: ModuleID!
  withDescription(description: String!): Module!
  withObject(object: TypeDefID!): Module!
  withInterface(iface: TypeDefID!): Module!
  withEnum(enum: TypeDefID!): Module!
}

type SDKConfig implements Node {
  id: ID!
  source: String!
  debug: Boolean!
}

type ModuleSource implements Node {
  id: ID!
  kind: ModuleSourceKind!
  configExists: Boolean!
  moduleName: String!
  moduleOriginalName: String!
  engineVersion: String!
  sdk: SDKConfig
  dependencies: [ModuleSource!]!
  sourceRootSubpath: String!
  sourceSubpath: String!
  contextDirectory: Directory!
  directory(path: String!): Directory!
  digest: String!
  asString: String!
  pin: String!
  commit: String!
  version: String!
  cloneRef: String!
  htmlRepoURL: String!
  localContextDirectoryPath: String!
  withName(name: String!): ModuleSource!
  withSDK(source: String!): ModuleSource!
  withSourceSubpath(path: String!): ModuleSource!
  withIncludes(patterns: [String!]!): ModuleSource!
  withEngineVersion(version: String!): ModuleSource!
  withDependencies(dependencies: [ModuleSourceID!]!): ModuleSource!
  withoutDependencies(dependencies: [String!]!): ModuleSource!
  generatedContextDirectory: Directory!
  generatedContextChangeset: Changeset!
  introspectionSchemaJSON: File!
  asModule: Module!
  sync: ModuleSourceID!
}

type CurrentModule implements Node {
  id: ID!
  name: String!
  source: Directory!
  dependencies: [Module!]!
  "Load a directory from the module's scratch working directory, including any changes that may have been made to it during module function execution."
  workdir(path: String!, exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false): Directory!
  "Load a file from the module's scratch working directory, including any changes that may have been made to it during module function execution."
  workdirFile(path: String!): File!
}

type FunctionCall implements Node {
  id: ID!
  name: String!
  parentName: String!
  parent: JSON!
  inputArgs: [FunctionCallArgValue!]!
  returnValue(value: JSON!): Void
  returnError(error: ErrorID!): Void
}

type FunctionCallArgValue implements Node {
  id: ID!
  name: String!
  value: JSON!
}
`;
