/** SSHFS volumes: a remote directory mounted into a container's execs over SSH (Debian's sshfs on the engine). */
export const volumesSDL = /* GraphQL */ `
type Volume implements Node {
  id: ID!
}

extend type Query {
  sshfsVolume(
    endpoint: String!
    privateKey: SecretID!
    knownHosts: SecretID
    cacheKey: String
    insecureSkipHostKeyCheck: Boolean = false
    experimentalServiceHost: ServiceID
  ): Volume!
}

extend type Container {
  withMountedVolume(path: String!, volume: VolumeID!, readOnly: Boolean = false, expand: Boolean = false): Container!
}

extend type Address {
  volume: Volume!
}
`;
