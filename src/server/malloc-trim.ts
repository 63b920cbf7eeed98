/**
 * glibc's malloc_trim(0), through a native addon of tanto's (native/malloc-trim.c,
 * compiled by `npm run build` into dist/native/malloc-trim.node).
 *
 * The engine's native memory (Buffers under glibc's mmap threshold, zlib's and
 * SQLite's, libuv's) comes from glibc's arenas, which give pages back to the
 * system only from their top: after a burst of pulls, syncs and publishes, the
 * main arena kept 29–53 MB of freed chunks resident behind a few live ones
 * (measured with gdb: malloc_trim(0) took the engine from 130 to 82 MB RSS).
 * The idle collection calls this after V8's full collections.
 */
import * as path from "node:path";
import { messageOf } from "../errors.js";

/**
 * Beside the compiled code's dist/: dist/src/server/ → dist/native/, and the bundle's
 * dist/bundle/engine/ (or the image's /usr/local/lib/tanto/bundle/engine/) → …/native/.
 */
const ADDON = path.join(import.meta.dirname, "..", "..", "native", "malloc-trim.node");

let addon: { trim: () => number } | Error | undefined;

/**
 * Return the free pages of every malloc arena to the system: true when some
 * were, false when none could be; an Error (the same one on every call) when
 * the addon cannot be loaded (not built, or not glibc).
 */
export function mallocTrim(): boolean | Error {
  if (addon === undefined) {
    try {
      const module = { exports: {} as { trim?: unknown } };
      process.dlopen(module, ADDON);
      if (typeof module.exports.trim !== "function") throw new Error("it exports no trim()");
      addon = module.exports as { trim: () => number };
    } catch (err) {
      addon = new Error(`cannot load ${ADDON} (run npm run build): ${messageOf(err)}`);
    }
  }
  return addon instanceof Error ? addon : addon.trim() === 1;
}
