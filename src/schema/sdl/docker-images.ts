/** Images into the client's Docker (`docker load` on the client). */
export const dockerImagesSDL = /* GraphQL */ `
extend type Container {
  exportImage(name: String!, platformVariants: [ContainerID!] = [], forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes): Void
}
`;
