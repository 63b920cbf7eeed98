/**
 * Code from the esbuild bundles `npm run build` writes into dist/bundle/
 * (scripts/bundle.mjs), falling back to the compiled files: Node.js resolves,
 * reads and links compiled modules one by one (~400 for the engine, ~200 ms
 * of its start), where a bundle is a few files. A bundle is skipped when it
 * is older than the compiled file it was made from (a `tsc` run without the
 * bundling step), and with TANTO_BUNDLE=0.
 */
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type Daemon = typeof import("../server/daemon.js");
export type FastCommands = typeof import("./fast-commands.js");

/** `tanto engine`: the daemon. */
export function loadDaemon(): Promise<Daemon> {
  return load<Daemon>("../../bundle/engine/daemon.js", "../server/daemon.js", () => import("../server/daemon.js"));
}

/** `tanto query`, `session`, `run`. */
export function loadFastCommands(): Promise<FastCommands> {
  return load<FastCommands>("../../bundle/cli/fast-commands.js", "./fast-commands.js", () => import("./fast-commands.js"));
}

async function load<T>(bundle: string, compiled: string, fallback: () => Promise<T>): Promise<T> {
  const bundled = new URL(bundle, import.meta.url);
  if (process.env["TANTO_BUNDLE"] !== "0" && isFresh(bundled, new URL(compiled, import.meta.url))) return (await import(bundled.href)) as T;
  return fallback();
}

function isFresh(bundle: URL, compiled: URL): boolean {
  const b = statSync(fileURLToPath(bundle), { throwIfNoEntry: false });
  if (!b) return false;
  const c = statSync(fileURLToPath(compiled), { throwIfNoEntry: false });
  return c === undefined || b.mtimeMs >= c.mtimeMs;
}
