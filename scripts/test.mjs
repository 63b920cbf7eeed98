#!/usr/bin/env node
// Runs the whole test suite: one real registry (Debian's docker-registry on a
// free 127.0.0.1 port) holding the busybox test image built from Debian's
// busybox-static, shared by every test file through TANTO_TEST_REGISTRY; then
// node's built-in test runner over the compiled tests. Assumes `npm run build`.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { startRegistry } = await import(path.join(repo, "dist/test/support/registry.js"));
const { pushBusybox } = await import(path.join(repo, "dist/test/support/images.js"));

/** tanto's compiled tests under `dir`; packages staged into dist (the engine image's node_modules) bring tests of their own. */
function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" ? [] : testFiles(p);
    return name.endsWith(".test.js") ? [p] : [];
  });
}

const filter = process.argv.slice(2);
const files = testFiles(path.join(repo, "dist")).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));

const registry = await startRegistry();
let code = 1;
try {
  await pushBusybox(registry.host, ["busybox:latest", "library/busybox:latest"]);
  code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ["--test", "--test-concurrency=2", ...files], {
      stdio: "inherit",
      env: { ...process.env, TANTO_TEST_REGISTRY: registry.host },
    });
    child.on("close", (c) => resolve(c ?? 1));
  });
} finally {
  await registry.stop();
}
process.exit(code);
