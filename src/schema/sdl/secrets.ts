/** Secrets: values that live in engine memory for the session only. */
export const secretsSDL = /* GraphQL */ `
type Secret implements Node {
  id: ID!
  name: String!
  plaintext: String!
  uri: String!
}

extend type Query {
  setSecret(name: String!, plaintext: String!): Secret!
  secret(uri: String!, cacheKey: String): Secret!
}

extend type Container {
  withSecretVariable(name: String!, secret: SecretID!): Container!
  withoutSecretVariable(name: String!): Container!
  withMountedSecret(path: String!, source: SecretID!, owner: String = "", mode: Int = 256, expand: Boolean = false): Container!
}
`;
