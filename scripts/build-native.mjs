#!/usr/bin/env node
// Compiles tanto's native addons, every native/<name>.c, into dist/native/<name>.node (run by
// `npm run build`; stageForImage in scripts/bundle.mjs copies them into the engine image):
// malloc-trim (src/server/malloc-trim.ts) and mount (src/mount/native-mount.ts). They use
// Node-API only, so one build runs on any Node.js of this major line and later. Needs a C
// compiler (`cc`, Debian's gcc and libc6-dev: scripts/install.sh installs them) and Node.js's
// headers (Debian's nodejs has them).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sources = path.join(root, "native");
const outDir = path.join(root, "dist", "native");
const cc = process.env.CC || "cc";

/** Node.js's headers: beside this binary (official and distribution installs), else node-gyp's cache. */
const candidates = [
  path.resolve(path.dirname(process.execPath), "..", "include", "node"),
  path.join(os.homedir(), ".cache", "node-gyp", process.versions.node, "include", "node"),
];
const headers = candidates.find((dir) => existsSync(path.join(dir, "node_api.h")));
if (headers === undefined) {
  throw new Error(
    `build-native: Node.js's headers are missing: no node_api.h in ${candidates.join(" or ")} (install them with this Node.js, e.g. Debian's nodejs)`,
  );
}

mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(sources)
  .filter((f) => f.endsWith(".c"))
  .sort()) {
  const source = path.join(sources, file);
  const out = path.join(outDir, file.replace(/\.c$/, ".node"));
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, ["-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-I", headers, "-o", tmp, source], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(tmp, { force: true });
    const reason =
      r.error?.code === "ENOENT"
        ? `no C compiler ${JSON.stringify(cc)} on PATH (apt-get install gcc libc6-dev, or set CC)`
        : (r.error?.message ?? `exit ${r.status}`);
    throw new Error(`build-native: compiling ${source} failed: ${reason}`);
  }
  // Swapped in whole: an engine starting meanwhile loads the old addon or the new one.
  renameSync(tmp, out);
}
