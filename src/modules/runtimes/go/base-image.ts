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
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Container } from "../../../core/container.js";
import type { RequestContext } from "../../../core/types.js";
import { FailedPreconditionError } from "../../../errors.js";
import { checkoutDir } from "../../../util/checkout.js";
import { containerFromTarball, findTarball } from "../base-tarball.js";

export const GO_RUNTIME_FILE = "go-runtime.tar";
export const GO_CODEGEN_DIR = "go-codegen";

function candidates(name: string, inCheckout: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (env["TANTO_SHARE_DIR"]) out.push(path.join(env["TANTO_SHARE_DIR"], name));
  out.push(path.join("/usr/local/share/tanto", name));
  const checkout = checkoutDir();
  if (checkout) out.push(path.join(checkout, inCheckout));
  return out;
}

async function findDir(list: string[], what: string): Promise<string> {
  for (const p of list) {
    if ((await fs.stat(p).catch(() => undefined))?.isDirectory()) return p;
  }
  throw new FailedPreconditionError(`${what} is missing: none of ${list.join(", ")} exists (run scripts/install.sh, or node engine-image/go-runtime.mjs)`);
}

export function findGoRuntimeTarball(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return findTarball(GO_RUNTIME_FILE, "Go module runtime image", "run scripts/install.sh, or node engine-image/go-runtime.mjs", env);
}

/** The generator's source files (name → text). */
export async function goCodegenSources(env: NodeJS.ProcessEnv = process.env): Promise<Map<string, string>> {
  const dir = await findDir(candidates(GO_CODEGEN_DIR, `engine-image/${GO_CODEGEN_DIR}`, env), "the Go module codegen sources");
  const out = new Map<string, string>();
  for (const name of (await fs.readdir(dir)).sort()) {
    if (name === "go.mod" || (name.endsWith(".go") && !name.endsWith("_test.go"))) out.set(name, await fs.readFile(path.join(dir, name), "utf8"));
  }
  return out;
}

/** A container of the Go runtime base image for the engine's default platform. */
export async function goBase(ctx: RequestContext): Promise<Container> {
  return containerFromTarball(ctx, await findGoRuntimeTarball(), "go runtime base");
}
