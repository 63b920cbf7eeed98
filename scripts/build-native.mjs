#!/usr/bin/env node
// Compiles native/mount.c into dist/native/mount.node (run by `npm run build`): the engine's
// mount(2)/umount2(2) binding (src/mount/mount.ts). Node-API, so one build serves any Node.js
// of this major line and later. Where there is no C compiler or no Node.js headers, it says so
// and builds nothing: the engine then mounts through `mount`/`umount` processes, as before.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "native", "mount.c");
const out = path.join(root, "dist", "native", "mount.node");

/** Node.js's headers: beside this binary (official and distribution installs), else node-gyp's cache. */
const headers = [
  path.resolve(path.dirname(process.execPath), "..", "include", "node"),
  path.join(os.homedir(), ".cache", "node-gyp", process.versions.node, "include", "node"),
].find((dir) => existsSync(path.join(dir, "node_api.h")));
const cc = process.env.CC || "cc";

if (headers === undefined) {
  console.error("build-native: no Node.js headers (node_api.h) found: the engine will mount through mount(8) processes");
} else {
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, ["-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-I", headers, "-o", tmp, source], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(tmp, { force: true });
    console.error(`build-native: ${cc} failed (${r.error?.message ?? `exit ${r.status}`}): the engine will mount through mount(8) processes`);
  } else {
    // Swapped in whole: an engine starting meanwhile loads the old addon or the new one.
    renameSync(tmp, out);
  }
}
