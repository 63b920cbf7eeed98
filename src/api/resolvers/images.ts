/** Container images out (export, asTarball, publish) and in (import): arguments in, core's calls out. */

import type { Container } from "../../core/container.js";
import { exportToClient, type ImageOutOptions, imageTarball, importImage, publishImage } from "../../core/images-out.js";
import type { Secret } from "../../core/secrets.js";
import type { Service } from "../../core/service.js";
import type { RequestContext } from "../../core/types.js";
import type { File } from "../../core/values.js";
import { InvalidArgumentError } from "../../errors.js";
import type { ExportCompression, ExportMediaTypes } from "../../images/image-exporter.js";
import { parseReference } from "../../oci/reference.js";
import { loadObject } from "../objects.js";
import { type Args, expand, optStr, str, strList } from "./args.js";

function compressionArg(a: Args): ExportCompression | undefined {
  const v = optStr(a, "forcedCompression");
  switch (v) {
    case undefined:
      return undefined;
    case "Gzip":
      return "gzip";
    case "EStarGZ":
      return "estargz";
    case "Zstd":
      return "zstd";
    case "Uncompressed":
      return "none";
    default:
      throw new InvalidArgumentError(`invalid forcedCompression "${v}": want Gzip, Zstd, EStarGZ or Uncompressed`);
  }
}

function mediaTypesArg(a: Args): ExportMediaTypes {
  const v = optStr(a, "mediaTypes") ?? "OCIMediaTypes";
  if (v === "OCIMediaTypes" || v === "OCI") return "oci";
  if (v === "DockerMediaTypes" || v === "DOCKER") return "docker";
  throw new InvalidArgumentError(`invalid mediaTypes "${v}": want OCIMediaTypes or DockerMediaTypes`);
}

/**
 * The container and its platform variants, in that order. With variants,
 * containers without a filesystem are dropped, as Dagger does: so
 * `dag.container().export(path, { platformVariants })` is the variants alone.
 */
export function variantContainers(c: Container, a: Args): Container[] {
  const variants = strList(a, "platformVariants").map((id) => loadObject(id, "Container") as Container);
  if (variants.length === 0) return [c];
  const withFs = [c, ...variants].filter((x) => x.state.rootfs !== undefined);
  if (withFs.length === 0) throw new InvalidArgumentError("platformVariants: every container is empty (none has a filesystem): nothing to export");
  return withFs;
}

export function outOptions(a: Args): ImageOutOptions {
  return { compression: compressionArg(a), mediaTypes: mediaTypesArg(a) };
}

export const imageContainerResolvers = {
  export: (c: Container, a: Args, ctx: RequestContext) => exportToClient(ctx, variantContainers(c, a), expand(c, a, str(a, "path")), outOptions(a)),
  asTarball: (c: Container, a: Args) => imageTarball(variantContainers(c, a), outOptions(a)),
  import: (c: Container, a: Args, ctx: RequestContext) => importImage(ctx, c, loadObject(str(a, "source"), "File") as File, optStr(a, "tag") || undefined),
  publish: (c: Container, a: Args, ctx: RequestContext) => {
    const svc = optStr(a, "registryService");
    return publishImage(
      ctx,
      variantContainers(c, a),
      str(a, "address"),
      outOptions(a),
      svc === undefined ? undefined : (loadObject(svc, "Service") as Service),
    );
  },
  withRegistryAuth: (c: Container, a: Args) => {
    const host = registryHost(str(a, "address"));
    const secret = loadObject(str(a, "secret"), "Secret") as Secret;
    return c.with({ registryAuth: [...c.state.registryAuth.filter((l) => l.host !== host), { host, username: str(a, "username"), secret: secret.ref }] });
  },
  withoutRegistryAuth: (c: Container, a: Args) => {
    const host = registryHost(str(a, "address"));
    return c.with({ registryAuth: c.state.registryAuth.filter((l) => l.host !== host) });
  },
};

/** The registry host of an address: "docker.io", "127.0.0.1:5000", or the host of an image reference. */
function registryHost(address: string): string {
  return parseReference(address.includes("/") ? address : `${address}/x`).domain;
}
