/**
 * The checkout this code runs from (the directory holding tanto's
 * package.json), found by walking up from this file: the same answer whether
 * the code runs as compiled files (dist/src/…) or from the engine's esbuild
 * bundle (dist/bundle/engine/…), whose files sit at other depths. Undefined
 * where there is no checkout (the engine image's /usr/local/lib/tanto).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

let found: string | null | undefined;

export function checkoutDir(): string | undefined {
  if (found === undefined) found = search(path.dirname(fileURLToPath(import.meta.url)));
  return found ?? undefined;
}

function search(from: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown };
      if (pkg.name === "tanto") return dir;
    } catch {
      // no package.json here, or not JSON: keep going up
    }
    if (path.dirname(dir) === dir) return null;
  }
}
