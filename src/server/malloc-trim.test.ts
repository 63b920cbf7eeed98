import assert from "node:assert/strict";
import { test } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { mallocTrim } from "./malloc-trim.js";

const MB = 1024 * 1024;

test("mallocTrim hands back freed malloc memory that live allocations keep from the arena's top", () => {
  // 64 KiB chunks (under glibc's 128 KiB mmap threshold: from the arena), each
  // followed by a small one that stays: freeing the big ones leaves holes that
  // glibc's free() cannot return, as the engine's socket and zlib buffers do.
  const big: Buffer[] = [];
  const kept: Buffer[] = [];
  for (let i = 0; i < 1024; i++) {
    big.push(Buffer.allocUnsafeSlow(64 * 1024).fill(i));
    kept.push(Buffer.allocUnsafeSlow(256).fill(i));
  }
  const rssFull = process.memoryUsage.rss();
  // Node frees a Buffer's memory when V8 collects it: release them, then let the trim return the pages.
  big.length = 0;
  collectAll();
  const rssFreed = process.memoryUsage.rss();
  const trimmed = mallocTrim();
  const rssTrimmed = process.memoryUsage.rss();
  assert.ok(!(trimmed instanceof Error), String(trimmed));
  assert.equal(trimmed, true);
  const back = (rssFreed - rssTrimmed) / MB;
  assert.ok(
    back > 48,
    `RSS ${(rssFull / MB).toFixed(1)} MB with 64 MB in chunks, ${(rssFreed / MB).toFixed(1)} MB once freed, ${(rssTrimmed / MB).toFixed(1)} MB trimmed`,
  );
  assert.equal(kept.length, 1024);
});

/** Two full collections of V8's heap (which frees the Buffers' memory). */
function collectAll(): void {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  v8.setFlagsFromString("--no-expose-gc");
  gc();
  gc();
}
