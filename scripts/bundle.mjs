#!/usr/bin/env node
// tanto's bundles, made with esbuild from the compiled code in dist/src (run by
// `npm run build`, after tsc, into dist/bundle/; engine-image/build.mjs stages
// the same bundles for the engine image through stageForImage below). Each is
// one CommonJS file: Node.js 20 resolves, reads and links ES modules one by one
// (~400 for the engine, ~200 ms of its start; a dozen for a CLI command, a
// third of its ~100 ms), and has no code cache for them.
//
//   engine/daemon.cjs         `tanto engine`: src/server/daemon.ts and all it
//                             loads (the SDK runtimes too);
//   cli/fast-commands.cjs     `tanto query`, `session`, `run` (src/cli/fast-commands.ts);
//   cli/main.cjs              the command line (src/cli/entry.ts: parses the fast
//                             commands itself, loads the rest) — what bin/tanto, the
//                             compiled src/cli/main.ts and the image's tanto run;
//   cli/program.cjs           every other command (src/cli/program.ts, commander);
//   cli/otlp.cjs              the OTLP exporters (src/telemetry/otlp.ts: the OpenTelemetry packages,
//                             four fifths of what the others would hold), loaded by the engine and
//                             the commands only when spans go out over OTLP.
//
// All but main.cjs and otlp.cjs are loaded by src/cli/load-bundle.ts with V8's code cache
// (src/cli/code-cache.ts). A bundle refers to another by its path (a plugin turns
// the compiled files' imports of each other's entry into those paths), so no code is
// bundled twice and each loads only when needed. Bundled modules behind an import()
// still evaluate on first use.
//
// Native addons (better-sqlite3, node-pty) and zod (required on first use,
// src/util/zod.ts) stay outside: they resolve from the checkout's node_modules,
// or from the node_modules that stageForImage puts beside the bundles.
import * as fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Bundle name → its entry (under dist/src). */
const ENTRIES = {
  "engine/daemon.cjs": "server/daemon.js",
  "cli/fast-commands.cjs": "cli/fast-commands.js",
  "cli/main.cjs": "cli/entry.js",
  "cli/program.cjs": "cli/program.js",
  "cli/otlp.cjs": "telemetry/otlp.js",
};

/**
 * The bundles V8's code cache restores: the code has no dynamic-import callback there in
 * Node.js 20 (see src/util/dynamic-import.ts), so import() of what is not bundled (node-pty,
 * node's built-ins) becomes require(). main.cjs is loaded by Node.js itself and keeps import().
 */
const CODE_CACHED = new Set(["engine/daemon.cjs", "cli/fast-commands.cjs", "cli/program.cjs"]);

/** Packages left out of the bundles, and which of their files the image needs beside them. */
const NATIVE_PACKAGES = {
  "better-sqlite3": ["package.json", "LICENSE", "lib/", "build/Release/better_sqlite3.node"],
  bindings: ["package.json", "LICENSE.md", "bindings.js"],
  "file-uri-to-path": ["package.json", "LICENSE", "index.js"],
  "node-pty": ["package.json", "LICENSE", "lib/", "build/Release/pty.node"],
};
/** Loaded with require() at run time, so not bundled: the files of theirs that it reads. */
const REQUIRED_PACKAGES = {
  zod: (rel) => rel === "package.json" || rel === "LICENSE" || rel.endsWith(".cjs"),
};

/** Write the bundles into `outDir` (its `engine/` and `cli/` replaced whole). */
export async function bundle(outDir, repo = REPO) {
  const esbuild = await import("esbuild");
  const dist = path.join(repo, "dist", "src");
  const entryOf = new Map(Object.entries(ENTRIES).map(([name, entry]) => [path.join(dist, entry), name]));
  const staged = new Map();
  const defines = { "engine/daemon.cjs": { __TANTO_PARSED_SDL__: JSON.stringify(await parsedBaseParts(dist)) } };
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const dir = path.dirname(name);
    if (!staged.has(dir)) {
      const tmp = path.join(outDir, `${dir}.${process.pid}.tmp`);
      await fs.rm(tmp, { recursive: true, force: true });
      staged.set(dir, tmp);
    }
    await esbuild.build({
      absWorkingDir: repo,
      entryPoints: [path.join(dist, entry)],
      outfile: path.join(staged.get(dir), path.basename(name)),
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      external: ["better-sqlite3", "node-pty", ...Object.keys(REQUIRED_PACKAGES)],
      ...(CODE_CACHED.has(name) ? { supported: { "dynamic-import": false } } : {}),
      // The compiled code finds files beside itself through import.meta: here, beside the bundle.
      define: { "import.meta.url": "__tantoImportMetaUrl", "import.meta.dirname": "__dirname", "import.meta.filename": "__filename", ...defines[name] },
      banner: { js: 'const __tantoImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
      plugins: [otherBundles(name, entryOf), graphqlAsEsm(repo)],
      legalComments: "none",
      logLevel: "warning",
    });
  }
  for (const name of Object.keys(ENTRIES)) await asciiOnly(path.join(staged.get(path.dirname(name)), path.basename(name)));
  for (const [dir, tmp] of staged) {
    // Swapped in whole: a process starting meanwhile sees the old bundle or the new one.
    const final = path.join(outDir, dir);
    await fs.rm(final, { recursive: true, force: true });
    await fs.rename(tmp, final);
  }
}

/**
 * The bundle in ASCII: what esbuild leaves as it was (a µ in a regular expression, an arrow in a
 * comment) written as a \u escape. Node.js reads an ASCII file as Latin-1 (code-cache.ts), into a
 * one-byte string, twice as fast as it decodes UTF-8 into the two-byte string a single other
 * character makes (~10 of the engine bundle's ~45 ms load). A \u escape means the same character
 * in a string, template, regular expression or comment alike, but not in String.raw: refused there.
 */
async function asciiOnly(file) {
  const text = await fs.readFile(file, "utf8");
  if (!/[\u0080-\uffff]/.test(text)) return;
  if (text.includes("String.raw")) throw new Error(`${file}: cannot escape its non-ASCII characters, it uses String.raw`);
  const escaped = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  await fs.writeFile(file, escaped);
}

/** The engine's base schema parts parsed now rather than at its start (src/schema/parsed-sdl.ts). */
async function parsedBaseParts(dist) {
  const { baseParts } = await import(pathToFileURL(path.join(dist, "modules", "base-parts.js")).href);
  const { embeddedDefinitions } = await import(pathToFileURL(path.join(dist, "schema", "parsed-sdl.js")).href);
  return embeddedDefinitions(baseParts().map((p) => p.sdl));
}

/**
 * graphql from its ES module build (index.mjs) rather than its CommonJS main: bundled as CommonJS,
 * each of the ~15 modules importing it copied its ~400 exports at load (esbuild's interop), and all
 * of it ran at load; as ES modules the bundle binds them directly and leaves out what is unused.
 * Our code imports "graphql" only (no subpath), so no CommonJS copy is bundled beside it.
 */
function graphqlAsEsm(repo) {
  return {
    name: "tanto-graphql-esm",
    setup(build) {
      build.onResolve({ filter: /^graphql$/ }, () => ({ path: path.join(repo, "node_modules", "graphql", "index.mjs") }));
    },
  };
}

/** An import of another bundle's entry (a fallback of load-bundle.ts, entry.ts's program.js) becomes that bundle's path. */
function otherBundles(self, entryOf) {
  return {
    name: "tanto-other-bundles",
    setup(build) {
      build.onResolve({ filter: /\.js$/ }, (args) => {
        if (args.kind === "entry-point" || !args.path.startsWith(".")) return undefined;
        const target = entryOf.get(path.resolve(args.resolveDir, args.path));
        if (target === undefined || target === self) return undefined;
        const rel = path.relative(path.dirname(self), target);
        return { path: rel.startsWith(".") ? rel : `./${rel}`, external: true };
      });
    },
  };
}

/**
 * tanto as it goes into the engine image, in `outDir` (replaced), laid out as
 * /usr/local/lib/tanto: bundle/{engine,cli}/ (the bundles above: the image runs
 * bundle/cli/main.cjs), node_modules/ with what is not bundled (the native addons
 * better-sqlite3, with the two small packages it loads it through, and node-pty;
 * zod's CommonJS build) and native/ with tanto's own addons (scripts/build-native.mjs).
 * Deterministic: the same sources give the same bytes, so an unchanged tree syncs
 * to the engine as the same content and the image stays cached.
 * Returns the bundles' size in bytes.
 */
export async function stageForImage(outDir, repo = REPO) {
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(path.join(outDir, "bundle"), { recursive: true });
  await bundle(path.join(outDir, "bundle"), repo);
  for (const [pkg, entries] of Object.entries(NATIVE_PACKAGES)) {
    for (const entry of entries) {
      const src = path.join(repo, "node_modules", pkg, entry);
      const dst = path.join(outDir, "node_modules", pkg, entry);
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
  // tanto's own addons (scripts/build-native.mjs), at native/ beside bundle/, where
  // src/server/malloc-trim.ts and src/mount/native-mount.ts look from bundle/engine/, as in dist/.
  await fs.mkdir(path.join(outDir, "native"));
  const addons = (await fs.readdir(path.join(repo, "dist", "native"))).filter((f) => f.endsWith(".node")).sort();
  for (const addon of addons) await fs.copyFile(path.join(repo, "dist", "native", addon), path.join(outDir, "native", addon));
  let bytes = 0;
  for (const name of Object.keys(ENTRIES)) bytes += (await fs.stat(path.join(outDir, "bundle", name))).size;
  return bytes;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await bundle(path.join(REPO, "dist", "bundle"));
}
