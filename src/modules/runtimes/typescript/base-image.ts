/**
 * The base container of TypeScript module runtimes: the OCI layout tarball
 * engine-image/typescript-runtime.mjs builds (Debian 12, Node.js, npm, tsx,
 * typescript, @dagger.io/dagger), read from the engine's own disk, since no
 * public registry is reachable. Looked for, in order, at
 *
 *   $TANTO_SHARE_DIR/typescript-runtime.tar     (set by whoever runs the engine)
 *   /usr/local/share/tanto/typescript-runtime.tar  (the engine image)
 *   <checkout>/dist/share/typescript-runtime.tar   (scripts/install.sh links it there)
 *
 * It comes in the way `container().import()` brings an archive in: the same
 * archive import into the content store (once per engine and file), then the
 * image is unpacked from there by its manifest digest, like any imported image.
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Container } from "../../../core/container.js";
import type { RequestContext } from "../../../core/types.js";
import { FailedPreconditionError } from "../../../errors.js";
import { type ImportedImage, importImageArchive } from "../../../images/image-archive-import.js";
import { formatPlatform, parsePlatform } from "../../../oci/platform.js";
import { formatReference } from "../../../oci/reference.js";
import { importedImageRef } from "../../../ops/image-archive-ops.js";
import { vertex } from "../../../solver/vertex.js";

export const TYPESCRIPT_RUNTIME_FILE = "typescript-runtime.tar";

/** Where the engine looks for the tarball, in order. */
export function runtimeTarballCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env["TANTO_SHARE_DIR"]) out.push(path.join(env["TANTO_SHARE_DIR"], TYPESCRIPT_RUNTIME_FILE));
  out.push(path.join("/usr/local/share/tanto", TYPESCRIPT_RUNTIME_FILE));
  // dist/src/modules/runtimes/typescript/ → dist/share/
  out.push(fileURLToPath(new URL(`../../../../share/${TYPESCRIPT_RUNTIME_FILE}`, import.meta.url)));
  return out;
}

export async function findRuntimeTarball(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = runtimeTarballCandidates(env);
  for (const file of candidates) {
    if ((await fs.stat(file).catch(() => undefined))?.isFile()) return file;
  }
  throw new FailedPreconditionError(
    `the TypeScript module runtime image is missing: none of ${candidates.join(", ")} exists (run scripts/install.sh, or node engine-image/typescript-runtime.mjs)`,
  );
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

/** A container of the runtime base image for the engine's default platform. */
export async function typescriptBase(ctx: RequestContext): Promise<Container> {
  const file = await findRuntimeTarball();
  const platform = formatPlatform(parsePlatform(ctx.deps.defaultPlatform));
  const imported = await importOnce(ctx, file, platform);
  const ref = formatReference(importedImageRef(imported.manifestDigest));
  const rootfs = vertex({ kind: "image", ref, platform }, [], "typescript runtime base");
  return Container.empty(platform).fromImage(rootfs, ref, imported.config);
}
