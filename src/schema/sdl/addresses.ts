/** Query.address: one string read as a container, directory, file, git repository or ref, secret, service or socket. */
export const addressesSDL = /* GraphQL */ `
extend type Query {
  address(value: String!): Address!
}

type Address implements Node {
  id: ID!
  value: String!
  container: Container!
  directory(exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, noCache: Boolean = false): Directory!
  file(exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, noCache: Boolean = false): File!
  gitRepository: GitRepository!
  gitRef: GitRef!
  secret: Secret!
  service: Service!
  socket: Socket!
}
`;
