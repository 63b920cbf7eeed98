/**
 * Runtime base images carried as OCI layout tarballs (engine-image/*-runtime.mjs
 * builds them from Debian packages, since no public registry is reachable),
 * read from the engine's own disk. A tarball named F is looked for, in order, at
 *
 *   $TANTO_SHARE_DIR/F               (set by whoever runs the engine)
 *   /usr/local/share/tanto/F         (the engine image)
 *   <checkout>/dist/share/F          (scripts/install.sh links it there)
 *
 * It comes in the way `container().import()` brings an archive in: the same
 * archive import into the content store (once per engine and file), then the
 * image is unpacked from there by its manifest digest, like any imported image.
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { Container } from "../../core/container.js";
import type { RequestContext } from "../../core/types.js";
import { FailedPreconditionError } from "../../errors.js";
import { type ImportedImage, importImageArchive } from "../../images/image-archive-import.js";
import { formatPlatform, parsePlatform } from "../../oci/platform.js";
import { formatReference } from "../../oci/reference.js";
import { importedImageRef } from "../../ops/image-archive-ops.js";
import { vertex } from "../../solver/vertex.js";
import { checkoutDir } from "../../util/checkout.js";

/** Where the engine looks for tarball `file`, in order. */
export function tarballCandidates(file: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env["TANTO_SHARE_DIR"]) out.push(path.join(env["TANTO_SHARE_DIR"], file));
  out.push(path.join("/usr/local/share/tanto", file));
  const checkout = checkoutDir();
  if (checkout) out.push(path.join(checkout, "dist", "share", file));
  return out;
}

/** The first candidate of `file` that exists; else an error naming them and `howToBuild`. */
export async function findTarball(file: string, what: string, howToBuild: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = tarballCandidates(file, env);
  for (const f of candidates) {
    if ((await fs.stat(f).catch(() => undefined))?.isFile()) return f;
  }
  throw new FailedPreconditionError(`the ${what} is missing: none of ${candidates.join(", ")} exists (${howToBuild})`);
}

/** Imports by file identity (path, size, mtime) and platform, for the engine's lifetime. */
const imports = new Map<string, Promise<ImportedImage>>();

async function importOnce(ctx: RequestContext, file: string, platform: string): Promise<ImportedImage> {
  const st = await fs.stat(file);
  const key = `${file}|${st.size}|${st.mtimeMs}|${platform}`;
  let importing = imports.get(key);
  if (importing) {
    // Content collected since: import again.
    const done = await importing.catch(() => undefined);
    if (!done || !(await ctx.deps.exporter.content.info(done.manifestDigest))) importing = undefined;
  }
  if (!importing) {
    importing = importImageArchive(ctx.deps.exporter.content, createReadStream(file), { platform: parsePlatform(platform), signal: ctx.signal });
    imports.set(key, importing);
    importing.catch(() => imports.delete(key));
  }
  return importing;
}

/** A container of the image in tarball `file` for the engine's default platform. */
export async function containerFromTarball(ctx: RequestContext, file: string, label: string): Promise<Container> {
  const platform = formatPlatform(parsePlatform(ctx.deps.defaultPlatform));
  const imported = await importOnce(ctx, file, platform);
  const ref = formatReference(importedImageRef(imported.manifestDigest));
  const rootfs = vertex({ kind: "image", ref, platform }, [], label);
  return Container.empty(platform).fromImage(rootfs, ref, imported.config);
}
