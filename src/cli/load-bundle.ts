/**
 * Code from the esbuild bundles `npm run build` writes into dist/bundle/
 * (scripts/bundle.mjs), falling back to the compiled files: Node.js resolves,
 * reads and links compiled modules one by one (~400 for the engine, ~200 ms
 * of its start), where a bundle is one CommonJS file, loaded with V8's code
 * cache (code-cache.ts). A bundle is
 * skipped when it is older than the compiled file it was made from (a `tsc`
 * run without the bundling step), and with TANTO_BUNDLE=0.
 */
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { requireWithCodeCache } from "./code-cache.js";

export type Daemon = typeof import("../server/daemon.js");
export type FastCommands = typeof import("./fast-commands.js");
export type Program = typeof import("./program.js");

/** `tanto engine`: the daemon. */
export async function loadDaemon(): Promise<Daemon> {
  const bundled = new URL("../../bundle/engine/daemon.cjs", import.meta.url);
  if (useBundle(bundled, new URL("../server/daemon.js", import.meta.url))) return requireWithCodeCache(fileURLToPath(bundled)) as Daemon;
  return import("../server/daemon.js");
}

/** `tanto query`, `session`, `run`. */
export async function loadFastCommands(): Promise<FastCommands> {
  const bundled = new URL("../../bundle/cli/fast-commands.cjs", import.meta.url);
  if (useBundle(bundled, new URL("./fast-commands.js", import.meta.url))) return requireWithCodeCache(fileURLToPath(bundled)) as FastCommands;
  return import("./fast-commands.js");
}

/** Every other command (commander): through Node.js's import() a 1.2 MB CommonJS file first goes through its export scanner (~65 ms). */
export async function loadProgram(): Promise<Program> {
  const bundled = new URL("../../bundle/cli/program.cjs", import.meta.url);
  if (useBundle(bundled, new URL("./program.js", import.meta.url))) return requireWithCodeCache(fileURLToPath(bundled)) as Program;
  return import("./program.js");
}

function useBundle(bundle: URL, compiled: URL): boolean {
  return process.env["TANTO_BUNDLE"] !== "0" && isFresh(bundle, compiled);
}

function isFresh(bundle: URL, compiled: URL): boolean {
  const b = statSync(fileURLToPath(bundle), { throwIfNoEntry: false });
  if (!b) return false;
  const c = statSync(fileURLToPath(compiled), { throwIfNoEntry: false });
  return c === undefined || b.mtimeMs >= c.mtimeMs;
}
