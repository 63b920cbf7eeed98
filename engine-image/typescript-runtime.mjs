#!/usr/bin/env node
// The base image of TypeScript module runtimes: Debian 12 (mmdebstrap on the
// host, as engine-image/base.mjs does for the engine) with this machine's
// Node.js and npm, and tsx, typescript and the official @dagger.io/dagger
// library installed globally under /usr/local/lib/node_modules. No public
// image registry is reachable, so the engine imports this OCI layout tarball
// instead of pulling node:*-alpine (see src/modules/runtimes/typescript/).
//
//   node engine-image/typescript-runtime.mjs     # run by scripts/install.sh
//
// The tarball is cached in ~/.cache/tanto (or $TANTO_CACHE_DIR) under a hash
// of the recipe: Debian packages, the Node.js binary's digest, npm's version
// and the npm packages. A link to it is kept at dist/share/typescript-runtime.tar,
// where an engine running from this checkout finds it; engine-image/build.mjs
// copies it to /usr/local/share/tanto/ in the engine image.
//
// The npm packages come from the registry this machine's npm is configured
// for (its .npmrc, CA and credentials stay on the host: npm runs here, and
// only the installed files go into the image).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BASE_RECIPE, ensureAndLinkRuntime, ensureDebianImage, runStep } from "./base.mjs";

/** The file name the engine looks for (src/modules/runtimes/typescript/base-image.ts). */
export const TYPESCRIPT_RUNTIME_FILE = "typescript-runtime.tar";

/** The npm packages of the runtime, pinned (MODULES.md §6: tsx 4.15.6, TypeScript 5.9.3, SDK 0.21.9). */
export const RUNTIME_NPM_PACKAGES = ["tsx@4.15.6", "typescript@5.9.3", "@dagger.io/dagger@0.21.9"];

/**
 * The library in one file, as Dagger's runtime has it (`bun build` → /bundled_lib/core.js): its
 * ~1,000 files (OpenTelemetry, graphql, …) cost seconds to resolve and load on each run of a
 * module's code, and one ES module costs one read. TypeScript stays outside (loaded with
 * `require`, which spares Node's ESM-to-CommonJS scan of its 9 MB): the introspector finds the
 * compiler's lib files next to it. Bundled with the esbuild that tsx brings.
 *
 * Its dynamic `import()`s go through a one-line module next to it (SDK_BUNDLE_IMPORT): tsx
 * rewrites every dynamic import of each ES module it loads and attaches a source map, which for a
 * 6 MB file costs seconds; a file without any is passed through as it is.
 */
export const SDK_BUNDLE = "lib/node_modules/@dagger.io/dagger/bundle/core.mjs";
const SDK_BUNDLE_IMPORT = "import.mjs";
/** `import(` as an expression (not `.import(`, not part of a name). */
const DYNAMIC_IMPORT = /(?<![\w$.])import\(/g;

function npmCli() {
  // npm's own directory: node_modules/npm next to the `npm` on PATH.
  const bin = execFileSync("sh", ["-c", 'readlink -f "$(command -v npm)"'], { encoding: "utf8" }).trim();
  return path.resolve(path.dirname(bin), "..");
}

export function typescriptRuntimeRecipe() {
  const npmDir = npmCli();
  const npmVersion = JSON.parse(readFileSync(path.join(npmDir, "package.json"), "utf8")).version;
  const nodeDigest = createHash("sha256").update(readFileSync(process.execPath)).digest("hex");
  return {
    snapshot: BASE_RECIPE.snapshot,
    suite: BASE_RECIPE.suite,
    variant: "minbase",
    mirrors: BASE_RECIPE.mirrors,
    // Node.js is dynamically linked against glibc, libstdc++ and libgcc; CAs for npm.
    packages: ["ca-certificates", "libstdc++6", "libgcc-s1"],
    dpkgOptions: BASE_RECIPE.dpkgOptions.filter((o) => !o.includes("qemu")),
    sourceDateEpoch: BASE_RECIPE.sourceDateEpoch,
    node: { version: process.version, sha256: nodeDigest },
    npm: { version: npmVersion, dir: npmDir },
    npmPackages: RUNTIME_NPM_PACKAGES,
    bundle: { file: SDK_BUNDLE, entry: "dist/src/index.js", external: ["typescript"], format: "esm", dynamicImport: SDK_BUNDLE_IMPORT },
    env: [],
  };
}

/**
 * Lay out /usr/local in `work/local`: node, npm, and the global packages.
 * Returns the mmdebstrap hook that copies it into the root filesystem.
 */
async function stageUsrLocal(recipe, work, log) {
  const local = path.join(work, "local");
  await fs.mkdir(path.join(local, "bin"), { recursive: true });
  await fs.mkdir(path.join(local, "lib/node_modules"), { recursive: true });
  await fs.copyFile(process.execPath, path.join(local, "bin/node"));
  await fs.chmod(path.join(local, "bin/node"), 0o755);
  await fs.cp(recipe.npm.dir, path.join(local, "lib/node_modules/npm"), { recursive: true, verbatimSymlinks: true });
  await fs.symlink("../lib/node_modules/npm/bin/npm-cli.js", path.join(local, "bin/npm"));
  await fs.symlink("../lib/node_modules/npm/bin/npx-cli.js", path.join(local, "bin/npx"));
  log(`typescript-runtime: npm install -g ${recipe.npmPackages.join(" ")}`);
  // A private npm cache: nothing of the host's (and no credentials) ends up in `local`.
  await runStep("npm", [
    "install",
    "--global",
    "--prefix",
    local,
    "--cache",
    path.join(work, "npm-cache"),
    "--no-audit",
    "--no-fund",
    "--no-update-notifier",
    ...recipe.npmPackages,
  ]);
  await bundleSdk(local, log);
  return [`cp -a '${local}/.' "$1/usr/local/"`];
}

/** Writes SDK_BUNDLE under `local` (a /usr/local tree with the global packages installed). */
async function bundleSdk(local, log) {
  const modules = path.join(local, "lib/node_modules");
  const tsxRequire = createRequire(path.join(modules, "tsx", "package.json"));
  const esbuild = tsxRequire("esbuild");
  const out = path.join(local, SDK_BUNDLE);
  log(`typescript-runtime: bundling @dagger.io/dagger with esbuild ${esbuild.version}`);
  // `import ts from "typescript"` becomes a CommonJS module that requires it at run time.
  const requireTypescript = {
    name: "typescript-by-require",
    setup(build) {
      build.onResolve({ filter: /^typescript$/ }, (args) =>
        args.namespace === "typescript-by-require" ? { path: "typescript", external: true } : { path: "typescript", namespace: "typescript-by-require" },
      );
      build.onLoad({ filter: /.*/, namespace: "typescript-by-require" }, () => ({ contents: 'module.exports = require("typescript")', loader: "js" }));
    },
  };
  const built = await esbuild.build({
    entryPoints: [path.join(modules, "@dagger.io/dagger/dist/src/index.js")],
    outfile: out,
    write: false,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    plugins: [requireTypescript],
    // CommonJS code inside the bundle (and the TypeScript shim) requires through this.
    banner: {
      js: [
        `import { dynamicImport as __tantoImport } from "./${SDK_BUNDLE_IMPORT}";`,
        'import { createRequire as __tantoCreateRequire } from "node:module";',
        "const require = __tantoCreateRequire(import.meta.url);",
      ].join("\n"),
    },
  });
  const code = built.outputFiles[0].text.replace(DYNAMIC_IMPORT, "__tantoImport(");
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, code);
  await fs.writeFile(path.join(path.dirname(out), SDK_BUNDLE_IMPORT), "export const dynamicImport = (specifier) => import(specifier);\n");
  // It loads (TypeScript found, every name defined) and exports what the library does.
  await runStep(process.execPath, [
    "--input-type=module",
    "-e",
    `const m = await import(${JSON.stringify(out)}); for (const k of ["connection", "dag", "object", "func", "entrypoint", "Context"]) if (!(k in m)) throw new Error("the bundle lacks " + k);`,
  ]);
}

/** The runtime base tarball: from the cache, or built now. Returns { path, cached, seconds }. */
export async function ensureTypescriptRuntime({ log = (l) => process.stderr.write(l + "\n") } = {}) {
  const recipe = typescriptRuntimeRecipe();
  return ensureDebianImage({ recipe, name: "typescript-runtime", log, stage: (work) => stageUsrLocal(recipe, work, log) });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await ensureAndLinkRuntime("typescript-runtime", TYPESCRIPT_RUNTIME_FILE, ensureTypescriptRuntime);
}
