/**
 * Directory and File helpers beyond copies (filter, chown, search, findUp,
 * patches, changesets, string replacement), JSON values, env files, errors
 * and `Query.file`; names, arguments and defaults of the SDK 0.21 client.
 */
export const fsExtrasSDL = /* GraphQL */ `
enum DiffStatKind { ADDED MODIFIED REMOVED RENAMED }
enum ChangesetMergeConflict { FAIL FAIL_EARLY LEAVE_CONFLICT_MARKERS PREFER_OURS PREFER_THEIRS }
enum ChangesetsMergeConflict { FAIL FAIL_EARLY }

extend type Query {
  file(name: String!, contents: String!, permissions: Int = 420): File!
  json: JSONValue!
  envFile(expand: Boolean): EnvFile!
  error(message: String!): Error!
  changeset: Changeset!
}

extend type Directory {
  filter(exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false): Directory!
  chown(path: String!, owner: String!): Directory!
  search(paths: [String!], globs: [String!], pattern: String!, literal: Boolean = false, multiline: Boolean = false, dotall: Boolean = false, insensitive: Boolean = false, skipIgnored: Boolean = false, skipHidden: Boolean = false, filesOnly: Boolean = false, limit: Int): [SearchResult!]!
  findUp(name: String!, start: String!): String
  withPatch(patch: String!): Directory!
  withPatchFile(patch: FileID!): Directory!
  changes(from: DirectoryID!): Changeset!
  withChanges(changes: ChangesetID!): Directory!
  withError(err: String!): Directory!
}

extend type Container {
  withEnvFileVariables(source: EnvFileID!): Container!
  withError(err: String!): Container!
}

extend type File {
  withReplaced(search: String!, replacement: String!, all: Boolean = false, firstFrom: Int): File!
  chown(owner: String!): File!
  search(pattern: String!, literal: Boolean = false, multiline: Boolean = false, dotall: Boolean = false, insensitive: Boolean = false, skipIgnored: Boolean = false, skipHidden: Boolean = false, filesOnly: Boolean = false, limit: Int, paths: [String!], globs: [String!]): [SearchResult!]!
  asJSON: JSONValue!
  asEnvFile(expand: Boolean): EnvFile!
}

type SearchResult implements Node {
  id: ID!
  filePath: String!
  lineNumber: Int!
  absoluteOffset: Int!
  matchedLines: String!
  submatches: [SearchSubmatch!]!
}

type SearchSubmatch implements Node {
  id: ID!
  text: String!
  start: Int!
  end: Int!
}

type Changeset implements Node {
  id: ID!
  sync: ChangesetID!
  before: Directory!
  after: Directory!
  addedPaths: [String!]!
  modifiedPaths: [String!]!
  removedPaths: [String!]!
  isEmpty: Boolean!
  asPatch: File!
  diffStats: [DiffStat!]!
  layer: Directory!
  export(path: String!): String!
  withChangeset(changes: ChangesetID!, onConflict: ChangesetMergeConflict = FAIL): Changeset!
  withChangesets(changes: [ChangesetID!]!, onConflict: ChangesetsMergeConflict = FAIL): Changeset!
}

type DiffStat implements Node {
  id: ID!
  path: String!
  kind: DiffStatKind!
  addedLines: Int!
  removedLines: Int!
  oldPath: String
}

type JSONValue implements Node {
  id: ID!
  contents(pretty: Boolean = false, indent: String = "  "): JSON!
  withContents(contents: JSON!): JSONValue!
  field(path: [String!]!): JSONValue!
  fields: [String!]!
  withField(path: [String!]!, value: JSONValueID!): JSONValue!
  asArray: [JSONValue!]!
  asBoolean: Boolean!
  asInteger: Int!
  asString: String!
  newBoolean(value: Boolean!): JSONValue!
  newInteger(value: Int!): JSONValue!
  newString(value: String!): JSONValue!
}

type EnvFile implements Node {
  id: ID!
  asFile: File!
  exists(name: String!): Boolean!
  get(name: String!, raw: Boolean = false): String!
  namespace(prefix: String!): EnvFile!
  variables(raw: Boolean = false): [EnvVariable!]!
  withVariable(name: String!, value: String!): EnvFile!
  withoutVariable(name: String!): EnvFile!
}

type Error implements Node {
  id: ID!
  message: String!
  values: [ErrorValue!]!
  withValue(name: String!, value: JSON!): Error!
}

type ErrorValue implements Node {
  id: ID!
  name: String!
  value: JSON!
}
`;
