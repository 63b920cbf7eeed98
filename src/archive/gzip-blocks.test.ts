import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { BLOCK, compressGzipBlocks, incompressible } from "./gzip-blocks.js";

async function gz(input: Buffer, chunk: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunk) parts.push(input.subarray(at, at + chunk));
  const out: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(compressGzipBlocks())) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** Text-like bytes: compressible, but not trivially. */
function words(bytes: number, seed: number): Buffer {
  const vocab = ["layer", "blob", "digest", "manifest", "registry", "tar", "gzip", "overlay", "\n", " ", "sha256:", "0123"];
  let x = seed;
  const out: string[] = [];
  let len = 0;
  while (len < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = vocab[x % vocab.length] as string;
    out.push(w);
    len += w.length;
  }
  return Buffer.from(out.join("")).subarray(0, bytes);
}

/** gzip -dc of `data`: the system's decompressor, another reader than Node's. */
function systemGunzip(data: Buffer): Buffer {
  const res = spawnSync("gzip", ["-dc"], { input: data, maxBuffer: 1 << 30 });
  assert.equal(res.status, 0, `gzip -dc failed: ${res.stderr?.toString()}`);
  return res.stdout;
}

test("gzip-blocks: random bytes are stored, text is compressed, and gzip and zlib read both back", async () => {
  const noise = randomBytes(3 * BLOCK + 12345);
  const text = words(3 * BLOCK + 777, 7);
  const mixed = Buffer.concat([text, noise, text]);
  for (const [name, input] of [
    ["noise", noise],
    ["text", text],
    ["mixed", mixed],
  ] as const) {
    const out = await gz(input, 65536);
    assert.ok(gunzipSync(out).equals(input), `${name}: zlib reads it back`);
    assert.ok(systemGunzip(out).equals(input), `${name}: gzip -dc reads it back`);
    const zlib6 = gzipSync(input, { level: 6 }).length;
    // Noise costs 5 bytes per 64 KiB stored block; text compresses about as well as one zlib stream.
    if (name === "noise") assert.ok(out.length < input.length + 200, `${name}: ${out.length} bytes for ${input.length}`);
    else assert.ok(out.length < zlib6 * 1.02, `${name}: ${out.length} bytes, zlib alone ${zlib6}`);
  }
  assert.equal(incompressible([noise.subarray(0, 1000), noise.subarray(1000, BLOCK)], BLOCK), true);
  assert.equal(incompressible([text.subarray(0, BLOCK)], BLOCK), false);
});

test("gzip-blocks: the bytes depend on the input only, not on how it is chunked", async () => {
  const input = Buffer.concat([words(BLOCK + 5000, 1), randomBytes(2 * BLOCK), words(BLOCK / 3, 2)]);
  const a = await gz(input, 1000);
  const b = await gz(input, BLOCK);
  const c = await gz(input, input.length);
  assert.ok(a.equals(b) && b.equals(c), "equal input gives equal output");
  assert.deepEqual([...a.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], "no name, zero mtime, Unix");
});

test("gzip-blocks: empty and tiny input give valid gzip", async () => {
  for (const input of [Buffer.alloc(0), Buffer.from("x"), words(BLOCK, 3)]) {
    const out = await gz(input, 4096);
    assert.ok(gunzipSync(out).equals(input));
    assert.ok(systemGunzip(out).equals(input));
  }
});

test("gzip-blocks: a failing source fails the pipeline", async () => {
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent++ < 3) this.push(randomBytes(BLOCK));
      else this.destroy(new Error("disk gone"));
    },
  });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  await assert.rejects(pipeline(source, compressGzipBlocks(), sink), /disk gone/);
});
