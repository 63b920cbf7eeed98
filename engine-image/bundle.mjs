// tanto as it goes into the engine image: the CLI and engine bundled by
// esbuild into one ESM file, plus the dependencies that cannot be bundled,
// the native addons better-sqlite3 (with the two small packages it loads it
// through) and node-pty (terminals). The result is a directory laid out as
// /usr/local/lib/tanto:
//
//   tanto.mjs
//   node_modules/better-sqlite3/{package.json,lib/**,build/Release/better_sqlite3.node}
//   node_modules/bindings/…  node_modules/file-uri-to-path/…
//   node_modules/node-pty/{package.json,lib/**,build/Release/pty.node}
//
// The output is deterministic (same sources, same bytes), so an unchanged
// tree syncs to the engine as the same content and the image build stays cached.
import * as fs from "node:fs/promises";
import path from "node:path";

/** Files of each runtime package the bundle needs beside it (globs are directory prefixes). */
const NATIVE_PACKAGES = {
  "better-sqlite3": ["package.json", "LICENSE", "lib/", "build/Release/better_sqlite3.node"],
  bindings: ["package.json", "LICENSE.md", "bindings.js"],
  "file-uri-to-path": ["package.json", "LICENSE", "index.js"],
  "node-pty": ["package.json", "LICENSE", "lib/", "build/Release/pty.node"],
};

/**
 * Bundle `repo`'s CLI into `outDir` (replaced). Returns the bundle's size.
 * esbuild resolves the sources' `.js` specifiers to their `.ts` files.
 */
export async function bundleTanto(repo, outDir) {
  const esbuild = await import("esbuild");
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(outDir, { recursive: true });
  const outfile = path.join(outDir, "tanto.mjs");
  await esbuild.build({
    entryPoints: [path.join(repo, "src/cli/main.ts")],
    absWorkingDir: repo,
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["better-sqlite3", "node-pty"],
    // CommonJS dependencies (commander, tar-stream…) call require() for node's
    // built-ins; an ESM bundle has no require of its own.
    banner: { js: 'import { createRequire as __tantoCreateRequire } from "node:module";\nconst require = __tantoCreateRequire(import.meta.url);' },
    legalComments: "none",
    logLevel: "warning",
  });
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
  return (await fs.stat(outfile)).size;
}
