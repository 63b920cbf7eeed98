#!/usr/bin/env node
/**
 * `tanto`: the command line (entry.ts), from its bundle dist/bundle/cli/main.cjs
 * (scripts/bundle.mjs) unless the compiled entry is newer (a `tsc` run without
 * bundling) or TANTO_BUNDLE=0. Node.js 20 links ES modules one by one: this
 * file loads no other of ours before the bundle, a single CommonJS file (the
 * engine starts from here: `node dist/src/cli/main.js engine`). bin/tanto runs
 * the bundle directly.
 */
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../../bundle/cli/main.cjs", import.meta.url));
const compiled = fileURLToPath(new URL("./entry.js", import.meta.url));
// The test of load-bundle.ts, inlined: importing it would link the modules this file avoids.
const b = process.env["TANTO_BUNDLE"] === "0" ? undefined : statSync(bundle, { throwIfNoEntry: false });
const c = b && statSync(compiled, { throwIfNoEntry: false });
if (b && (c === undefined || b.mtimeMs >= c.mtimeMs)) createRequire(import.meta.url)(bundle);
else await import("./entry.js");
