/** Container.exportImage: the image loaded into the client's Docker. */
import type { Container } from "../../core/container.js";
import { exportToClientDocker } from "../../core/images-out.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { parseReference } from "../../oci/reference.js";
import { type Args, str } from "./args.js";
import { outOptions, variantContainers } from "./images.js";

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
