/**
 * Container images out of and into the engine: export to the client's disk,
 * `asTarball` (a lazy File whose op writes the archive), publish to a
 * registry, and import of an archive as a container. The resolvers parse
 * arguments; the recipes and their vertices are made here.
 *
 * Several containers make one multi-platform image: the first and its
 * platform variants, in that order.
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { NotFoundError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { imageArchive } from "../images/image-archive.js";
import { importImageArchive } from "../images/image-archive-import.js";
import type { ExportCompression, ExportedImage, ExportMediaTypes, ImageSettings, ImageVariant } from "../images/image-exporter.js";
import { formatPlatform, normalizePlatform, parsePlatform } from "../oci/platform.js";
import { formatReference, parseReference } from "../oci/reference.js";
import { type ImageImportOp, type ImageTarballOp, importedImageRef, TARBALL_NAME } from "../ops/image-archive-ops.js";
import type { Vertex } from "../solver/types.js";
import { vertex } from "../solver/vertex.js";
import { Container } from "./container.js";
import { solve, withView } from "./evaluate.js";
import { toDockerHealthcheck } from "./healthcheck.js";
import { packOneFile } from "./host.js";
import { withRegistryService } from "./registry-service.js";
import type { Service } from "./service.js";
import type { RequestContext } from "./types.js";
import { File } from "./values.js";

/** How layers and manifests are written. */
export interface ImageOutOptions {
  /** Recompress every layer; undefined keeps the blobs the layers already have. */
  compression?: ExportCompression | undefined;
  mediaTypes: ExportMediaTypes;
}

/** The image configuration a container's settings make. */
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
    ...(s.annotations?.length ? { annotations: s.annotations } : {}),
    ...(s.healthcheck ? { healthcheck: toDockerHealthcheck(s.healthcheck) } : {}),
  };
}

/** Evaluate the containers: each one's rootfs snapshot and image settings. */
function imageVariants(ctx: RequestContext, containers: readonly Container[]): Promise<ImageVariant[]> {
  return Promise.all(
    containers.map(async (c) => {
      const result = c.state.rootfs ? await solve(ctx, c.state.rootfs) : undefined;
      const rootfs = result?.snapshot === undefined ? undefined : ctx.deps.snapshots.get(result.snapshot);
      return { rootfs, settings: settingsOf(c) };
    }),
  );
}

/** Evaluate the containers and export them as one image into the content store. */
export async function exportImage(ctx: RequestContext, containers: readonly Container[], opts: ImageOutOptions): Promise<ExportedImage> {
  const variants = await imageVariants(ctx, containers);
  return ctx.deps.exporter.exportImage(variants, { compression: opts.compression, mediaTypes: opts.mediaTypes, signal: ctx.signal });
}

/** Write the image archive (a tarball) at `dest` on the client; returns the path written. */
export async function exportToClient(ctx: RequestContext, containers: readonly Container[], dest: string, opts: ImageOutOptions): Promise<string> {
  const image = await exportImage(ctx, containers, opts);
  const archive = imageArchive(ctx.deps.exporter.content, image);
  const tar = packOneFile({ name: path.posix.basename(dest) || TARBALL_NAME, size: archive.size, mode: 0o644, mtime: new Date() }, archive.stream(ctx.signal));
  return ctx.session.host.write({ path: dest, kind: "file", wipe: false, allowParentDirPath: false }, tar, ctx.signal);
}

/** The image archive as a lazy File: nothing is evaluated until its contents are needed. */
export function imageTarball(containers: readonly Container[], opts: ImageOutOptions): File {
  const inputs: Vertex[] = [];
  const variants = containers.map((v) => {
    let rootfs = -1;
    if (v.state.rootfs) {
      rootfs = inputs.findIndex((i) => i.digest === v.state.rootfs!.digest);
      if (rootfs < 0) rootfs = inputs.push(v.state.rootfs) - 1;
    }
    return { rootfs, settings: settingsOf(v) };
  });
  const op: ImageTarballOp = { kind: "image-tarball", variants, ...(opts.compression ? { compression: opts.compression } : {}), mediaTypes: opts.mediaTypes };
  return new File(vertex({ ...op }, inputs, "asTarball"), `/${TARBALL_NAME}`);
}

/** Push the image to `address`, with the container's registry login for that host; returns `name@digest`. */
export async function publishImage(
  ctx: RequestContext,
  containers: readonly Container[],
  address: string,
  opts: ImageOutOptions,
  registryService?: Service,
): Promise<string> {
  const ref = parseReference(address);
  const variants = await imageVariants(ctx, containers);
  const login = containers[0]?.state.registryAuth.find((l) => l.host === ref.domain);
  const credentials = login ? { username: login.username, password: ctx.session.secrets.plaintext(login.secret) } : undefined;
  // Layers packed now stream to the registry as they are compressed.
  const push = (via?: string) =>
    ctx.deps.exporter.exportAndPublish(
      ref,
      variants,
      { compression: opts.compression, mediaTypes: opts.mediaTypes, signal: ctx.signal },
      { signal: ctx.signal, credentials, via },
    );
  const digest = registryService ? await withRegistryService(ctx, registryService, ref.domain, push) : await push();
  const { digest: _given, ...named } = ref;
  return `${formatReference(named)}@${digest}`;
}

/**
 * A container whose rootfs and settings are the image in archive `f` (for
 * the container's platform). The archive is read now, not lazily: the
 * container's settings come from the image config.
 */
export async function importImage(ctx: RequestContext, c: Container, f: File, tag: string | undefined): Promise<Container> {
  if (!f.source) throw new NotFoundError(`image archive "${f.path}" not found: the file's directory is empty`);
  const source = f.source;
  const platform = parsePlatform(c.state.platform);
  const imported = await withView(ctx, source, async (root) => {
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
  const rootfs = vertex({ ...op }, [source], `import ${path.posix.basename(f.path)}`);
  const { config } = imported;
  const imagePlatform = normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
  const { imageRef: _none, ...state } = c.fromImage(rootfs, formatReference(importedImageRef(imported.manifestDigest)), config).state;
  return new Container({ ...state, platform: formatPlatform(imagePlatform) });
}

/** Load the image into the client's Docker under `name` (`docker load` on the client); returns `name`. */
export async function exportToClientDocker(ctx: RequestContext, containers: readonly Container[], name: string, opts: ImageOutOptions): Promise<string> {
  const image = await exportImage(ctx, containers, opts);
  const archive = imageArchive(ctx.deps.exporter.content, image, { tags: [name] });
  await ctx.session.host.loadImage(archive.stream(ctx.signal), ctx.signal);
  return name;
}

/**
 * A container from an image of the client's Docker (`docker save` on the
 * client), for the container's platform. The archive is read now; the
 * recipe names the manifest, so an engine that lacks its blobs cannot load
 * the container again without the client (the error says so).
 */
export async function clientDockerImage(ctx: RequestContext, c: Container, name: string): Promise<Container> {
  const platform = parsePlatform(c.state.platform);
  const saved = await ctx.session.host.saveImage(name, ctx.signal);
  let imported: Awaited<ReturnType<typeof importImageArchive>>;
  try {
    imported = await importImageArchive(ctx.deps.exporter.content, saved.tar, { platform, signal: ctx.signal });
    saved.done();
  } catch (err) {
    saved.done(err as Error);
    throw err;
  }
  const op: ImageImportOp = { kind: "image-import", manifest: imported.manifestDigest, path: `docker-image:${name}`, platform: formatPlatform(platform) };
  const rootfs = vertex({ ...op }, [], `docker image ${name}`);
  const { config } = imported;
  const imagePlatform = normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
  const { imageRef: _none, ...state } = c.fromImage(rootfs, formatReference(importedImageRef(imported.manifestDigest)), config).state;
  return new Container({ ...state, platform: formatPlatform(imagePlatform) });
}
