/**
 * Images out and in: a container as an image tarball (exported to the
 * client, or as a File), imported from one, or published to a registry.
 * Enum values are those the SDK sends: `ImageMediaTypes` also has the short
 * spellings `OCI` and `DOCKER`, which the generated client's value-to-name
 * mapping produces.
 */
export const imagesSDL = /* GraphQL */ `
enum ImageLayerCompression { Gzip Zstd EStarGZ Uncompressed }
enum ImageMediaTypes { OCIMediaTypes DockerMediaTypes OCI DOCKER }

extend type Container {
  withRegistryAuth(address: String!, username: String!, secret: SecretID!): Container!
  withoutRegistryAuth(address: String!): Container!
  export(path: String!, platformVariants: [ContainerID!] = [], forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes, expand: Boolean = false): String!
  asTarball(platformVariants: [ContainerID!] = [], forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes): File!
  import(source: FileID!, tag: String = ""): Container!
  publish(address: String!, platformVariants: [ContainerID!] = [], forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes, registryService: ServiceID): String!
}
`;
