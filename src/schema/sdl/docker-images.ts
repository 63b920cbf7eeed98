/** Images into and out of the client's Docker (`docker load` / `docker save` on the client). */
export const dockerImagesSDL = /* GraphQL */ `
extend type Host {
  containerImage(name: String!): Container!
}

extend type Container {
  exportImage(name: String!, platformVariants: [ContainerID!] = [], forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes): Void
}
`;
