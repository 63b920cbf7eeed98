#!/usr/bin/env node
// Bundles compiled code with esbuild into dist/bundle/ (run by `npm run build`,
// after tsc), for src/cli/load-bundle.ts:
//
//   dist/bundle/engine/  `tanto engine`: dist/src/server/daemon.js and all it loads.
//     Node.js resolves, reads and links ~400 compiled modules one by one in
//     ~200 ms; one bundle takes a fraction of that, and every cold start pays it.
//     The SDK runtimes, loaded by name at run time (src/modules/runtimes/registry.ts:
//     `./<sdk>/index.js` beside it), are entry points of their own sharing chunks
//     with the daemon, so there is one copy of every class.
//   dist/bundle/cli/     `tanto query`, `session`, `run` (src/cli/fast-commands.ts):
//     what a session's client needs first, in one file; what it may need later
//     (host files, terminals, runner hosts) in chunks loaded on first use.
//
// Native addons (better-sqlite3, node-pty) and zod (required on first use,
// src/util/zod.ts) stay outside: they resolve from the checkout's node_modules.
import * as fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist", "src");
const SDK_RUNTIMES = ["typescript", "python", "go"];

const bundles = {
  engine: {
    daemon: path.join(dist, "server/daemon.js"),
    ...Object.fromEntries(SDK_RUNTIMES.map((sdk) => [`${sdk}/index`, path.join(dist, `modules/runtimes/${sdk}/index.js`)])),
  },
  cli: { "fast-commands": path.join(dist, "cli/fast-commands.js") },
};

const esbuild = await import("esbuild");
for (const [name, entryPoints] of Object.entries(bundles)) {
  const outDir = path.join(root, "dist", "bundle", name);
  const tmp = `${outDir}.${process.pid}.tmp`;
  await fs.rm(tmp, { recursive: true, force: true });
  await esbuild.build({
    entryPoints,
    absWorkingDir: root,
    outdir: tmp,
    splitting: true,
    chunkNames: "chunk-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["better-sqlite3", "node-pty", "zod"],
    // CommonJS dependencies (tar-stream…) call require() for node's built-ins; an ESM bundle has no require of its own.
    banner: { js: 'import { createRequire as __tantoCreateRequire } from "node:module";\nconst require = __tantoCreateRequire(import.meta.url);' },
    legalComments: "none",
    logLevel: "warning",
  });
  // Swapped in whole: a process starting meanwhile sees the old bundle or the new one.
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.rename(tmp, outDir);
}
