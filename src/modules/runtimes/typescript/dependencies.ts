/**
 * A module's npm dependencies in its runtime container. TypeScript alone (the
 * usual case) is linked from the base image; anything else is installed by
 * `npm install --omit=dev` from the module's package.json, lockfile and
 * .npmrc, with the npm cache in a cache volume shared by all modules.
 *
 * Registry settings come from the engine's environment, so an engine set up
 * like the host's npm reaches the same registry:
 *
 *   npm_config_registry   the registry URL, passed on
 *   NODE_EXTRA_CA_CERTS   a CA bundle file, copied in (certificates are not secret)
 *   TANTO_NPMRC           an .npmrc file with credentials, mounted as a secret
 *                         for the install only: never written into a layer
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { type Container, withExec } from "../../../core/container.js";
import { changeFs } from "../../../core/filesystem.js";
import type { RequestContext } from "../../../core/types.js";
import type { Directory } from "../../../core/values.js";
import { TYPESCRIPT_LIBRARY_DIR, TYPESCRIPT_VERSION } from "./sdk-files.js";

/** The npm cache shared by every module's dependency install. */
export const NPM_CACHE_KEY = "tanto-typescript-npm-cache";
const EXTRA_CA = "/usr/local/share/tanto/npm-extra-ca.crt";

export async function withDependencies(
  ctx: RequestContext,
  c: Container,
  src: Directory,
  workdir: string,
  dependencies: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Container> {
  const { typescript, ...others } = dependencies;
  const at = (p: string) => path.posix.join(workdir, p);
  let out = c;
  if (typescript === TYPESCRIPT_VERSION) {
    out = out.with({
      rootfs: changeFs(
        out.state.rootfs,
        [{ action: "symlink", target: TYPESCRIPT_LIBRARY_DIR, link: at("node_modules/typescript") }],
        "node_modules/typescript",
      ),
    });
    if (Object.keys(others).length === 0) return out;
  }
  const files = [{ action: "copy" as const, from: src, dest: workdir, include: ["package-lock.json", ".npmrc"] }];
  const ca = env["NODE_EXTRA_CA_CERTS"];
  const caText = ca ? await fs.readFile(ca, "utf8").catch(() => undefined) : undefined;
  out = out.with({
    rootfs: changeFs(
      out.state.rootfs,
      [...files, ...(caText ? [{ action: "mkfile" as const, path: EXTRA_CA, contents: caText, permissions: 0o644 }] : [])],
      "lockfile and .npmrc",
    ),
  });
  if (caText) out = out.withEnvVariable("NODE_EXTRA_CA_CERTS", EXTRA_CA);
  const registry = env["npm_config_registry"] ?? env["NPM_CONFIG_REGISTRY"];
  if (registry) out = out.withEnvVariable("npm_config_registry", registry);
  out = out.withMount({ target: "/root/.npm", type: "cache", key: NPM_CACHE_KEY, sharing: "SHARED" });
  const npmrc = env["TANTO_NPMRC"];
  if (npmrc) {
    const secret = ctx.session.secrets.add("tanto-npmrc", await fs.readFile(npmrc, "utf8"));
    out = out.withMount({ target: "/root/.npmrc", type: "secret", secret: secret.ref, mode: 0o400 });
  }
  out = withExec(out, { args: ["npm", "install", "--omit=dev", "--no-audit", "--no-fund"], expect: "SUCCESS" });
  return out.withoutMount("/root/.npm").withoutMount("/root/.npmrc");
}
