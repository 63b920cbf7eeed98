import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { inBatches } from "./batches.js";

async function collect(chunks: Uint8Array[], min: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  async function* source(): AsyncGenerator<Uint8Array> {
    yield* chunks;
  }
  for await (const piece of inBatches(source(), min)) out.push(piece);
  return out;
}

test("small chunks are joined into pieces of at least min bytes, every byte in order", async () => {
  const data = randomBytes(10_000);
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += 300) chunks.push(data.subarray(off, off + 300));
  const pieces = await collect(chunks, 1024);
  assert.deepEqual(Buffer.concat(pieces), data);
  for (const piece of pieces.slice(0, -1)) assert.ok(piece.length >= 1024 && piece.length < 1024 + 300, `piece of ${piece.length} bytes`);
  assert.ok((pieces.at(-1)?.length ?? 0) <= 1024 + 300);
  assert.equal(pieces.length, Math.ceil(10_000 / 1200));
});

test("a large chunk passes through as it is; empty chunks are dropped; a short rest comes last", async () => {
  const big = randomBytes(5000);
  const small = randomBytes(10);
  const pieces = await collect([big, new Uint8Array(0), small], 4096);
  assert.equal(pieces.length, 2);
  assert.equal(pieces[0], big, "no copy of a chunk that is large enough");
  assert.deepEqual(pieces[1], small);
  assert.deepEqual(await collect([], 4096), []);
});

test("held bytes go out before a following large chunk", async () => {
  const a = randomBytes(100);
  const b = randomBytes(5000);
  const pieces = await collect([a, b], 4096);
  assert.deepEqual(Buffer.concat(pieces), Buffer.concat([a, b]));
  assert.equal(pieces.length, 1);
});
