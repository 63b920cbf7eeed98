#!/usr/bin/env node
// Bundles compiled code with esbuild into dist/bundle/ (run by `npm run build`,
// after tsc), for src/cli/load-bundle.ts:
//
//   dist/bundle/engine/daemon.cjs  `tanto engine`: dist/src/server/daemon.js and
//     all it loads (the SDK runtimes too), as one CommonJS file, which
//     src/cli/code-cache.ts loads with V8's code cache (ES modules have none in
//     Node.js 20). Node.js resolves, reads and links ~400 compiled modules one
//     by one in ~200 ms; one bundle takes a fraction of that, and every cold
//     start pays it. Modules that load on first use still evaluate then.
//   dist/bundle/cli/fast-commands.cjs  `tanto query`, `session`, `run`
//     (src/cli/fast-commands.ts), the same way: a CLI process lives ~100 ms, and
//     Node.js 20 linking a dozen ES modules and compiling them was a third of it.
//
// Native addons (better-sqlite3, node-pty) and zod (required on first use,
// src/util/zod.ts) stay outside: they resolve from the checkout's node_modules.
import * as fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist", "src");
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  external: ["better-sqlite3", "node-pty", "zod"],
  legalComments: "none",
  logLevel: "warning",
};

/**
 * Both bundles are one CommonJS file each, loaded with V8's code cache. import() of what is not
 * bundled (node-pty, node's built-ins) becomes require(): code V8 restores from its cache has no
 * dynamic-import callback in Node.js 20 (see src/util/dynamic-import.ts); bundled modules behind an
 * import() still evaluate on first use. The compiled code finds files beside itself through
 * import.meta: here, beside the bundle.
 */
const commonjs = (outdir, entry, file) => ({
  ...common,
  entryPoints: { [entry]: path.join(dist, file) },
  outdir,
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  supported: { "dynamic-import": false },
  define: { "import.meta.url": "__tantoImportMetaUrl", "import.meta.dirname": "__dirname", "import.meta.filename": "__filename" },
  banner: { js: 'const __tantoImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});

const bundles = {
  engine: (outdir) => commonjs(outdir, "daemon", "server/daemon.js"),
  cli: (outdir) => commonjs(outdir, "fast-commands", "cli/fast-commands.js"),
};

const esbuild = await import("esbuild");
for (const [name, options] of Object.entries(bundles)) {
  const outDir = path.join(root, "dist", "bundle", name);
  const tmp = `${outDir}.${process.pid}.tmp`;
  await fs.rm(tmp, { recursive: true, force: true });
  await esbuild.build(options(tmp));
  // Swapped in whole: a process starting meanwhile sees the old bundle or the new one.
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.rename(tmp, outDir);
}
