// tanto as it goes into the engine image: the CLI and engine bundled by
// esbuild into one ESM file, plus what is not bundled: the native addons
// better-sqlite3 (with the two small packages it loads it through) and
// node-pty (terminals), and zod's CommonJS build (loaded with require() on
// first use, see src/util/zod.ts). The result is a directory laid out as
// /usr/local/lib/tanto:
//
//   tanto.mjs, main.js, chunk-*.js, package.json (ESM)
//   typescript/index.js, python/index.js, go/index.js   the SDK runtimes, loaded by name
//   node_modules/better-sqlite3/{package.json,lib/**,build/Release/better_sqlite3.node}
//   node_modules/bindings/…  node_modules/file-uri-to-path/…  node_modules/zod/{package.json,**/*.cjs}
//   node_modules/node-pty/{package.json,lib/**,build/Release/pty.node}
//
// The output is deterministic (same sources, same bytes), so an unchanged
// tree syncs to the engine as the same content and the image build stays cached.
import * as fs from "node:fs/promises";
import path from "node:path";

/** The SDK runtimes under src/modules/runtimes/ the engine loads by name. */
const SDK_RUNTIMES = ["typescript", "python", "go"];

/** Files of each runtime package the bundle needs beside it (globs are directory prefixes). */
const NATIVE_PACKAGES = {
  "better-sqlite3": ["package.json", "LICENSE", "lib/", "build/Release/better_sqlite3.node"],
  bindings: ["package.json", "LICENSE.md", "bindings.js"],
  "file-uri-to-path": ["package.json", "LICENSE", "index.js"],
  "node-pty": ["package.json", "LICENSE", "lib/", "build/Release/pty.node"],
};

/** Packages loaded with require() at run time, so not bundled: the files of theirs that it reads. */
const REQUIRED_PACKAGES = {
  zod: (rel) => rel === "package.json" || rel === "LICENSE" || rel.endsWith(".cjs"),
};

/**
 * Bundle `repo`'s CLI into `outDir` (replaced). Returns the bundle's size.
 * esbuild resolves the sources' `.js` specifiers to their `.ts` files.
 */
export async function bundleTanto(repo, outDir) {
  const esbuild = await import("esbuild");
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(outDir, { recursive: true });
  // The SDK runtimes are loaded by name at run time (src/modules/runtimes/registry.ts:
  // `./<sdk>/index.js` next to the code that loads them), so they are entry points of
  // their own, sharing chunks with the CLI: one copy of every class. All files sit at
  // the top (chunks too), ESM by package.json; tanto.mjs starts the CLI.
  await esbuild.build({
    entryPoints: {
      main: path.join(repo, "src/cli/main.ts"),
      ...Object.fromEntries(SDK_RUNTIMES.map((sdk) => [`${sdk}/index`, path.join(repo, `src/modules/runtimes/${sdk}/index.ts`)])),
    },
    absWorkingDir: repo,
    outdir: outDir,
    splitting: true,
    chunkNames: "chunk-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["better-sqlite3", "node-pty", ...Object.keys(REQUIRED_PACKAGES)],
    // CommonJS dependencies (commander, tar-stream…) call require() for node's
    // built-ins; an ESM bundle has no require of its own.
    banner: { js: 'import { createRequire as __tantoCreateRequire } from "node:module";\nconst require = __tantoCreateRequire(import.meta.url);' },
    legalComments: "none",
    logLevel: "warning",
  });
  await fs.writeFile(path.join(outDir, "package.json"), '{"type":"module"}\n');
  const outfile = path.join(outDir, "tanto.mjs");
  await fs.writeFile(outfile, 'import "./main.js";\n');
  for (const [pkg, entries] of Object.entries(NATIVE_PACKAGES)) {
    const from = path.join(repo, "node_modules", pkg);
    const to = path.join(outDir, "node_modules", pkg);
    for (const entry of entries) {
      const src = path.join(from, entry);
      const dst = path.join(to, entry);
      await fs.mkdir(path.dirname(dst), { recursive: true });
      if (entry.endsWith("/")) await fs.cp(src, dst, { recursive: true });
      else await fs.copyFile(src, dst);
    }
  }
  for (const [pkg, wanted] of Object.entries(REQUIRED_PACKAGES)) {
    const from = path.join(repo, "node_modules", pkg);
    const files = (await fs.readdir(from, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(from, path.join(e.parentPath, e.name)))
      .filter(wanted)
      .sort();
    for (const rel of files) {
      const dst = path.join(outDir, "node_modules", pkg, rel);
      await fs.mkdir(path.dirname(dst), { recursive: true });
      await fs.copyFile(path.join(from, rel), dst);
    }
  }
  let bytes = 0;
  for (const f of await fs.readdir(outDir, { recursive: true })) {
    if (f.endsWith(".js") && !f.startsWith("node_modules")) bytes += (await fs.stat(path.join(outDir, f))).size;
  }
  return bytes;
}
