/**
 * Remote sources: git repositories and HTTP downloads, with the names,
 * arguments and defaults of the official SDK's generated client.
 */
export const sourcesSDL = /* GraphQL */ `
extend type Query {
  git(url: String!, keepGitDir: Boolean, sshKnownHosts: String = "", sshAuthSocket: SocketID, httpAuthUsername: String = "", httpAuthToken: SecretID, httpAuthHeader: SecretID, experimentalServiceHost: ServiceID): GitRepository!
  http(url: String!, name: String, permissions: Int, checksum: String, authHeader: SecretID, experimentalServiceHost: ServiceID): File!
}

type GitRepository implements Node {
  id: ID!
  url: String
  branch(name: String!): GitRef!
  tag(name: String!): GitRef!
  commit(id: String!): GitRef!
  ref(name: String!): GitRef!
  head: GitRef!
  latestVersion: GitRef!
  branches(patterns: [String!]): [String!]!
  tags(patterns: [String!]): [String!]!
  uncommitted: Changeset!
}

type GitRef implements Node {
  id: ID!
  commit: String!
  ref: String!
  tree(discardGitDir: Boolean = false, depth: Int = 1, includeTags: Boolean = false): Directory!
}
`;
