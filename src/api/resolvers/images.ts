/** Container images out (export, asTarball, publish) and in (import). */

import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { Container } from "../../core/container.js";
import { solve, withView } from "../../core/evaluate.js";
import { packOneFile } from "../../core/host.js";
import type { Secret } from "../../core/secrets.js";
import type { RequestContext } from "../../core/types.js";
import { File } from "../../core/values.js";
import { InvalidArgumentError, NotFoundError } from "../../errors.js";
import { resolveInRoot } from "../../fsutil/in-root.js";
import { imageArchive, importImageArchive } from "../../images/image-archive.js";
import type { ExportCompression, ExportedImage, ExportMediaTypes, ImageSettings, ImageVariant } from "../../images/image-exporter.js";
import { formatPlatform, normalizePlatform, parsePlatform } from "../../oci/platform.js";
import { formatReference, parseReference } from "../../oci/reference.js";
import { type ImageImportOp, type ImageTarballOp, importedImageRef, TARBALL_NAME } from "../../ops/image-archive-ops.js";
import type { Vertex } from "../../solver/types.js";
import { vertex } from "../../solver/vertex.js";
import { loadObject } from "../objects.js";
import { type Args, expand, optStr, str, strList } from "./args.js";

function compressionArg(a: Args): ExportCompression | undefined {
  const v = optStr(a, "forcedCompression");
  switch (v) {
    case undefined:
      return undefined;
    case "Gzip":
    // eStargz is gzip with a table of contents; plain gzip is what every reader takes.
    case "EStarGZ":
      return "gzip";
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

/** The container and its platform variants, in that order. */
function variantContainers(c: Container, a: Args): Container[] {
  return [c, ...strList(a, "platformVariants").map((id) => loadObject(id, "Container") as Container)];
}

function settingsOf(c: Container): ImageSettings {
  const s = c.state;
  return {
    platform: parsePlatform(s.platform),
    env: s.env,
    workdir: s.workdir,
    user: s.user,
    entrypoint: s.entrypoint,
    cmd: s.defaultArgs,
    labels: s.labels,
    exposedPorts: s.exposedPorts.map((p) => ({ port: p.port, protocol: p.protocol })),
  };
}

/** Evaluate the containers and export them as one image into the content store. */
async function exportImage(ctx: RequestContext, containers: readonly Container[], a: Args): Promise<ExportedImage> {
  const variants: ImageVariant[] = await Promise.all(
    containers.map(async (c) => {
      const result = c.state.rootfs ? await solve(ctx, c.state.rootfs) : undefined;
      const rootfs = result?.snapshot === undefined ? undefined : ctx.deps.snapshots.get(result.snapshot);
      return { rootfs, settings: settingsOf(c) };
    }),
  );
  return ctx.deps.exporter.exportImage(variants, { compression: compressionArg(a), mediaTypes: mediaTypesArg(a), signal: ctx.signal });
}

export const imageContainerResolvers = {
  export: async (c: Container, a: Args, ctx: RequestContext) => {
    const dest = expand(c, a, str(a, "path"));
    const image = await exportImage(ctx, variantContainers(c, a), a);
    const archive = imageArchive(ctx.deps.exporter.content, image);
    const tar = packOneFile(
      { name: path.posix.basename(dest) || TARBALL_NAME, size: archive.size, mode: 0o644, mtime: new Date() },
      archive.stream(ctx.signal),
    );
    return ctx.session.host.write({ path: dest, kind: "file", wipe: false, allowParentDirPath: false }, tar, ctx.signal);
  },

  asTarball: (c: Container, a: Args) => {
    const inputs: Vertex[] = [];
    const variants = variantContainers(c, a).map((v) => {
      let rootfs = -1;
      if (v.state.rootfs) {
        rootfs = inputs.findIndex((i) => i.digest === v.state.rootfs!.digest);
        if (rootfs < 0) rootfs = inputs.push(v.state.rootfs) - 1;
      }
      return { rootfs, settings: settingsOf(v) };
    });
    const compression = compressionArg(a);
    const op: ImageTarballOp = { kind: "image-tarball", variants, ...(compression ? { compression } : {}), mediaTypes: mediaTypesArg(a) };
    return new File(vertex({ ...op }, inputs, "asTarball"), `/${TARBALL_NAME}`);
  },

  import: async (c: Container, a: Args, ctx: RequestContext) => {
    const f = loadObject(str(a, "source"), "File") as File;
    if (!f.source) throw new NotFoundError(`image archive "${f.path}" not found: the file's directory is empty`);
    const tag = optStr(a, "tag") || undefined;
    const platform = parsePlatform(c.state.platform);
    // Imported now, not lazily: the container's settings come from the image config.
    const imported = await withView(ctx, f.source, async (root) => {
      const file = await resolveInRoot(root, f.path, { followLast: true });
      if (!(await fs.stat(file).catch(() => undefined))?.isFile()) throw new NotFoundError(`image archive "${f.path}" not found`);
      return importImageArchive(ctx.deps.exporter.content, createReadStream(file), { platform, tag, signal: ctx.signal });
    });
    const op: ImageImportOp = {
      kind: "image-import",
      manifest: imported.manifestDigest,
      path: f.path,
      platform: formatPlatform(platform),
      ...(tag ? { tag } : {}),
    };
    const rootfs = vertex({ ...op }, [f.source], `import ${path.posix.basename(f.path)}`);
    const { config } = imported;
    const imagePlatform = normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
    const { imageRef: _none, ...state } = c.fromImage(rootfs, formatReference(importedImageRef(imported.manifestDigest)), config).state;
    return new Container({ ...state, platform: formatPlatform(imagePlatform) });
  },

  publish: async (c: Container, a: Args, ctx: RequestContext) => {
    const ref = parseReference(str(a, "address"));
    const image = await exportImage(ctx, variantContainers(c, a), a);
    const login = c.state.registryAuth.find((l) => l.host === ref.domain);
    const credentials = login ? { username: login.username, password: ctx.session.secrets.plaintext(login.secret) } : undefined;
    const digest = await ctx.deps.exporter.publish(ref, image, { signal: ctx.signal, credentials });
    const { digest: _given, ...named } = ref;
    return `${formatReference(named)}@${digest}`;
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
