/** Container settings that go into the image: OCI annotations and Docker's HEALTHCHECK. */
export const containerExtrasSDL = /* GraphQL */ `
extend type Container {
  withAnnotation(name: String!, value: String!): Container!
  withoutAnnotation(name: String!): Container!
  withDockerHealthcheck(args: [String!]!, shell: Boolean = false, interval: String, timeout: String, startPeriod: String, startInterval: String, retries: Int): Container!
  withoutDockerHealthcheck: Container!
  dockerHealthcheck: HealthcheckConfig
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
