/** Container settings: OCI annotations and Docker's HEALTHCHECK (both go into the image), volatile variables. */
export const containerExtrasSDL = /* GraphQL */ `
extend type Container {
  withAnnotation(name: String!, value: String!): Container!
  withoutAnnotation(name: String!): Container!
  withDockerHealthcheck(args: [String!]!, shell: Boolean = false, interval: String, timeout: String, startPeriod: String, startInterval: String, retries: Int): Container!
  withoutDockerHealthcheck: Container!
  dockerHealthcheck: HealthcheckConfig
  withVolatileVariable(name: String!, value: String!): Container!
  withoutVolatileVariable(name: String!): Container!
  up(random: Boolean = false, ports: [PortForward!] = [], args: [String!] = [], useEntrypoint: Boolean = false, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false, expand: Boolean = false, noInit: Boolean = false): Void
}

type HealthcheckConfig implements Node {
  id: ID!
  args: [String!]!
  shell: Boolean!
  interval: String!
  timeout: String!
  startPeriod: String!
  startInterval: String!
  retries: Int!
}
`;
