/** Unix sockets of the client in containers (the "mount the docker socket" pattern). */
export const socketsSDL = /* GraphQL */ `
type Socket implements Node {
  id: ID!
}

extend type Host {
  unixSocket(path: String!): Socket!
}

extend type Container {
  withUnixSocket(path: String!, source: SocketID!, owner: String = "", expand: Boolean = false): Container!
  withoutUnixSocket(path: String!, expand: Boolean = false): Container!
}
`;
