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
 * (see ../base-tarball.ts).
 */
import type { Container } from "../../../core/container.js";
import type { RequestContext } from "../../../core/types.js";
import { containerFromTarball, findTarball, tarballCandidates } from "../base-tarball.js";

export const TYPESCRIPT_RUNTIME_FILE = "typescript-runtime.tar";

/** Where the engine looks for the tarball, in order. */
export function runtimeTarballCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return tarballCandidates(TYPESCRIPT_RUNTIME_FILE, env);
}

export function findRuntimeTarball(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return findTarball(TYPESCRIPT_RUNTIME_FILE, "TypeScript module runtime image", "run scripts/install.sh, or node engine-image/typescript-runtime.mjs", env);
}

/** A container of the runtime base image for the engine's default platform. */
export async function typescriptBase(ctx: RequestContext): Promise<Container> {
  return containerFromTarball(ctx, await findRuntimeTarball(), "typescript runtime base");
}
