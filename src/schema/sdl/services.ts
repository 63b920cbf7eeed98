/** Services: containers run for their ports, bound by other containers or tunnelled to the client. */
export const servicesSDL = /* GraphQL */ `
input PortForward {
  frontend: Int
  backend: Int!
  protocol: NetworkProtocol = TCP
}

type Service implements Node {
  id: ID!
  hostname: String!
  endpoint(port: Int, scheme: String = ""): String!
  ports: [Port!]!
  start: ServiceID!
  stop(kill: Boolean = false): ServiceID!
  sync: ServiceID!
  up(ports: [PortForward!] = [], random: Boolean = false): Void
  withHostname(hostname: String!): Service!
}

extend type Container {
  asService(args: [String!] = [], useEntrypoint: Boolean = false, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false, expand: Boolean = false, noInit: Boolean = false): Service!
  withServiceBinding(alias: String!, service: ServiceID!): Container!
}

extend type Host {
  tunnel(service: ServiceID!, native: Boolean = false, ports: [PortForward!] = []): Service!
  service(ports: [PortForward!]!, host: String = "localhost"): Service!
}
`;
