/** Container.exportImage and Host.containerImage: images into and out of the client's Docker. */
import { Container } from "../../core/container.js";
import type { Host } from "../../core/host.js";
import { clientDockerImage, exportToClientDocker } from "../../core/images-out.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { formatPlatform, parsePlatform } from "../../oci/platform.js";
import { parseReference } from "../../oci/reference.js";
import { type Args, str } from "./args.js";
import { outOptions, variantContainers } from "./images.js";

export const dockerImagesHostResolvers = {
  containerImage: (_h: Host, a: Args, ctx: RequestContext) =>
    clientDockerImage(ctx, Container.empty(formatPlatform(parsePlatform(ctx.deps.defaultPlatform))), str(a, "name")),
};

export const dockerImagesContainerResolvers = {
  exportImage: async (c: Container, a: Args, ctx: RequestContext) => {
    const name = str(a, "name");
    try {
      parseReference(name);
    } catch (err) {
      throw new InvalidArgumentError(`exportImage: invalid image name ${JSON.stringify(name)}: ${(err as Error).message}`);
    }
    await exportToClientDocker(ctx, variantContainers(c, a), name, outOptions(a));
    return null;
  },
};
