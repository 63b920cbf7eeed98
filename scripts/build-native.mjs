#!/usr/bin/env node
// Compiles tanto's one native addon, native/malloc-trim.c, into
// dist/native/malloc-trim.node (run by `npm run build`; stageForImage in
// scripts/bundle.mjs copies it into the engine image). It uses Node-API only,
// so one build runs on any Node.js of the same platform. Needs a C compiler
// (`cc`, Debian's gcc) and Node.js's headers (<node prefix>/include/node,
// Debian's nodejs has them).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "native", "malloc-trim.c");
const out = path.join(root, "dist", "native", "malloc-trim.node");
const headers = path.resolve(path.dirname(process.execPath), "..", "include", "node");
const cc = process.env.CC ?? "cc";

if (!existsSync(path.join(headers, "node_api.h"))) {
  throw new Error(`build-native: Node.js's headers are missing: no node_api.h in ${headers} (install them with this Node.js, e.g. Debian's nodejs)`);
}
mkdirSync(path.dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(cc, ["-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", `-I${headers}`, "-o", tmp, source], { stdio: "inherit" });
} catch (err) {
  const reason = err.code === "ENOENT" ? `no C compiler ${JSON.stringify(cc)} on PATH (apt-get install gcc libc6-dev, or set CC)` : err.message;
  throw new Error(`build-native: compiling ${source} failed: ${reason}`);
}
// Swapped in whole: an engine starting meanwhile loads the old file or the new one.
renameSync(tmp, out);
