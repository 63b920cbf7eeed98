/**
 * The base container of Go module runtimes: the OCI layout tarball
 * engine-image/go-runtime.mjs builds (Debian 12, the Go toolchain, the
 * dagger.io/dagger library in a module cache and compiled in a build cache),
 * read from the engine's own disk. Looked for, in order, at
 *
 *   $TANTO_SHARE_DIR/go-runtime.tar
 *   /usr/local/share/tanto/go-runtime.tar        (the engine image)
 *   <checkout>/dist/share/go-runtime.tar         (scripts/install.sh links it there)
 *
 * and the sources of tanto's generator (engine-image/go-codegen/*.go), at
 * $TANTO_SHARE_DIR/go-codegen, /usr/local/share/tanto/go-codegen or
 * <checkout>/engine-image/go-codegen.
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

export const GO_RUNTIME_FILE = "go-runtime.tar";
export const GO_CODEGEN_DIR = "go-codegen";

function candidates(name: string, inCheckout: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (env["TANTO_SHARE_DIR"]) out.push(path.join(env["TANTO_SHARE_DIR"], name));
  out.push(path.join("/usr/local/share/tanto", name));
  // dist/src/modules/runtimes/go/ → the checkout
  out.push(fileURLToPath(new URL(`../../../../../${inCheckout}`, import.meta.url)));
  return out;
}

async function find(list: string[], isDir: boolean, what: string): Promise<string> {
  for (const p of list) {
    const st = await fs.stat(p).catch(() => undefined);
    if (st && (isDir ? st.isDirectory() : st.isFile())) return p;
  }
  throw new FailedPreconditionError(`${what} is missing: none of ${list.join(", ")} exists (run scripts/install.sh, or node engine-image/go-runtime.mjs)`);
}

export function findGoRuntimeTarball(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return find(candidates(GO_RUNTIME_FILE, `dist/share/${GO_RUNTIME_FILE}`, env), false, "the Go module runtime image");
}

/** The generator's source files (name → text). */
export async function goCodegenSources(env: NodeJS.ProcessEnv = process.env): Promise<Map<string, string>> {
  const dir = await find(candidates(GO_CODEGEN_DIR, `engine-image/${GO_CODEGEN_DIR}`, env), true, "the Go module codegen sources");
  const out = new Map<string, string>();
  for (const name of (await fs.readdir(dir)).sort()) {
    if (name === "go.mod" || (name.endsWith(".go") && !name.endsWith("_test.go"))) out.set(name, await fs.readFile(path.join(dir, name), "utf8"));
  }
  return out;
}

/** Imports by file identity (path, size, mtime) and platform, for the engine's lifetime. */
const imports = new Map<string, Promise<ImportedImage>>();

async function importOnce(ctx: RequestContext, file: string, platform: string): Promise<ImportedImage> {
  const st = await fs.stat(file);
  const key = `${file}|${st.size}|${st.mtimeMs}|${platform}`;
  let importing = imports.get(key);
  if (importing) {
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

/** A container of the Go runtime base image for the engine's default platform. */
export async function goBase(ctx: RequestContext): Promise<Container> {
  const file = await findGoRuntimeTarball();
  const platform = formatPlatform(parsePlatform(ctx.deps.defaultPlatform));
  const imported = await importOnce(ctx, file, platform);
  const ref = formatReference(importedImageRef(imported.manifestDigest));
  const rootfs = vertex({ kind: "image", ref, platform }, [], "go runtime base");
  return Container.empty(platform).fromImage(rootfs, ref, imported.config);
}
