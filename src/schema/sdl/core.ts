/**
 * The core of the GraphQL schema: Query, Container, Directory, File and their
 * small companions, with the names, arguments, enums and defaults of the
 * official SDK's generated client (Dagger API, 0.21 line). The `XxxID`
 * scalars and `loadXxxFromID` fields of object types are added by the
 * builder (legacy-ids.ts), for these types and any a session adds.
 */
export const coreSDL = /* GraphQL */ `
scalar Platform
scalar Void
scalar JSON

enum CacheSharingMode { SHARED PRIVATE LOCKED }
enum ReturnType { SUCCESS FAILURE ANY }
enum NetworkProtocol { TCP UDP }
enum ExistsType { REGULAR_TYPE DIRECTORY_TYPE SYMLINK_TYPE }
enum FileType { UNKNOWN REGULAR DIRECTORY SYMLINK }

interface Node { id: ID! }

type Query {
  id: ID!
  version: String!
  defaultPlatform: Platform!
  container(platform: Platform): Container!
  directory: Directory!
  host: Host!
  cacheVolume(key: String!, source: DirectoryID, sharing: CacheSharingMode, owner: String): CacheVolume!
  node(id: ID!): Node
}

type Container implements Node {
  id: ID!
  sync: ContainerID!
  from(address: String!, registryService: ServiceID): Container!
  platform: Platform!
  imageRef: String!
  rootfs: Directory!
  withExec(args: [String!]!, useEntrypoint: Boolean = false, stdin: String = "", redirectStdin: String = "", redirectStdout: String = "", redirectStderr: String = "", expect: ReturnType = SUCCESS, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false, expand: Boolean = false, noInit: Boolean = false): Container!
  stdout: String!
  stderr: String!
  combinedOutput: String!
  exitCode: Int!
  withEnvVariable(name: String!, value: String!, expand: Boolean = false): Container!
  withoutEnvVariable(name: String!): Container!
  envVariable(name: String!): String
  envVariables: [EnvVariable!]!
  withWorkdir(path: String!, expand: Boolean = false): Container!
  withoutWorkdir: Container!
  workdir: String!
  withUser(name: String!): Container!
  withoutUser: Container!
  user: String!
  withEntrypoint(args: [String!]!, keepDefaultArgs: Boolean = false): Container!
  withoutEntrypoint(keepDefaultArgs: Boolean = false): Container!
  entrypoint: [String!]!
  withDefaultArgs(args: [String!]!): Container!
  withoutDefaultArgs: Container!
  defaultArgs: [String!]!
  withLabel(name: String!, value: String!): Container!
  withoutLabel(name: String!): Container!
  label(name: String!): String
  labels: [Label!]!
  withExposedPort(port: Int!, protocol: NetworkProtocol = TCP, description: String, experimentalSkipHealthcheck: Boolean = false): Container!
  withoutExposedPort(port: Int!, protocol: NetworkProtocol = TCP): Container!
  exposedPorts: [Port!]!
  withMountedCache(path: String!, cache: CacheVolumeID!, source: DirectoryID, sharing: CacheSharingMode, owner: String, expand: Boolean = false): Container!
  withMountedTemp(path: String!, size: Int, expand: Boolean = false): Container!
  withoutMount(path: String!, expand: Boolean = false): Container!
  mounts: [String!]!
  withNewFile(path: String!, contents: String = "", permissions: Int = 420, owner: String, expand: Boolean = false): Container!
  file(path: String!, expand: Boolean = false): File!
  directory(path: String!, expand: Boolean = false): Directory!
  exists(path: String!, expectedType: ExistsType, doNotFollowSymlinks: Boolean = false, expand: Boolean = false): Boolean!
  stat(path: String!, doNotFollowSymlinks: Boolean = false): Stat!
  withRootfs(directory: DirectoryID!): Container!
  withDirectory(path: String!, source: DirectoryID!, exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, owner: String = "", expand: Boolean = false, permissions: Int): Container!
  withFile(path: String!, source: FileID!, permissions: Int, owner: String = "", expand: Boolean = false): Container!
  withFiles(path: String!, sources: [FileID!]!, permissions: Int, owner: String = "", expand: Boolean = false): Container!
  withoutFile(path: String!, expand: Boolean = false): Container!
  withoutFiles(paths: [String!]!, expand: Boolean = false): Container!
  withoutDirectory(path: String!, expand: Boolean = false): Container!
  withSymlink(target: String!, linkName: String!, expand: Boolean = false): Container!
  withMountedDirectory(path: String!, source: DirectoryID!, owner: String = "", readOnly: Boolean = false, expand: Boolean = false): Container!
  withMountedFile(path: String!, source: FileID!, owner: String = "", expand: Boolean = false): Container!
}

type Directory implements Node {
  id: ID!
  sync: DirectoryID!
  entries(path: String): [String!]!
  glob(pattern: String!): [String!]!
  file(path: String!): File!
  directory(path: String!): Directory!
  exists(path: String!, expectedType: ExistsType, doNotFollowSymlinks: Boolean = false): Boolean!
  withNewFile(path: String!, contents: String!, permissions: Int = 420): Directory!
  name: String!
  stat(path: String!, doNotFollowSymlinks: Boolean = false): Stat!
  digest: String!
  withNewDirectory(path: String!, permissions: Int = 493): Directory!
  withDirectory(path: String!, source: DirectoryID!, exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, owner: String = "", permissions: Int): Directory!
  withFile(path: String!, source: FileID!, permissions: Int, owner: String = ""): Directory!
  withFiles(path: String!, sources: [FileID!]!, permissions: Int): Directory!
  withoutFile(path: String!): Directory!
  withoutFiles(paths: [String!]!): Directory!
  withoutDirectory(path: String!): Directory!
  withSymlink(target: String!, linkName: String!): Directory!
  withTimestamps(timestamp: Int!): Directory!
  export(path: String!, wipe: Boolean = false): String!
  diff(other: DirectoryID!): Directory!
}

type File implements Node {
  id: ID!
  sync: FileID!
  contents(offsetLines: Int, limitLines: Int): String!
  size: Int!
  name: String!
  digest(excludeMetadata: Boolean = false): String!
  stat: Stat!
  withName(name: String!): File!
  withTimestamps(timestamp: Int!): File!
  export(path: String!, allowParentDirPath: Boolean = false): String!
}

type Host implements Node {
  id: ID!
  directory(path: String!, exclude: [String!] = [], include: [String!] = [], noCache: Boolean = false, gitignore: Boolean = false): Directory!
  file(path: String!, noCache: Boolean = false): File!
  findUp(name: String!, noCache: Boolean = false): String
}

type Stat implements Node {
  id: ID!
  name: String!
  fileType: FileType!
  permissions: Int!
  size: Int!
}

type CacheVolume implements Node {
  id: ID!
}

type EnvVariable implements Node {
  id: ID!
  name: String!
  value: String!
}

type Label implements Node {
  id: ID!
  name: String!
  value: String!
}

type Port implements Node {
  id: ID!
  port: Int!
  protocol: NetworkProtocol!
  description: String
  experimentalSkipHealthcheck: Boolean!
}
`;
