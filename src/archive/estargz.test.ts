/** eStargz blobs: footer, chunked members at the TOC's offsets, one tar when inflated. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { CHUNK_SIZE, estargzFooter, FOOTER_SIZE, TOC_NAME, writeEstargz } from "./estargz.js";

const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function layerTar(big: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: "dir", type: "directory", mode: 0o755 });
  pack.entry({ name: "dir/big.bin", mode: 0o600, uid: 1000, gid: 1000 }, big);
  pack.entry({ name: "dir/empty" }, "");
  pack.entry({ name: "dir/link", type: "symlink", linkname: "big.bin" });
  pack.entry({ name: `dir/${"long-name-".repeat(15)}`, mode: 0o644 }, "long\n");
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

test("the footer is 51 bytes: an empty gzip member whose extra field holds the TOC offset", () => {
  const footer = estargzFooter(0x1234);
  assert.equal(footer.length, FOOTER_SIZE);
  assert.equal(gunzipSync(footer).length, 0);
  assert.equal(footer.subarray(16, 38).toString("ascii"), "0000000000001234STARGZ");
});

test("a layer as eStargz: chunked members at the TOC's offsets, one tar when inflated, TOC last", async () => {
  const big = Buffer.alloc(2 * CHUNK_SIZE + 1000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const source = await layerTar(big);
  const parts: Buffer[] = [];
  const r = await writeEstargz(Readable.from([source.subarray(0, 1000), source.subarray(1000)]), async (c) => {
    parts.push(c);
  });
  const blob = Buffer.concat(parts);
  const inflated = gunzipSync(blob);
  assert.equal(r.diffId, sha(inflated));
  assert.equal(r.uncompressedSize, inflated.length);

  const tocOffset = Number.parseInt(blob.subarray(blob.length - FOOTER_SIZE + 16, blob.length - FOOTER_SIZE + 32).toString("ascii"), 16);
  const tocTar = gunzipSync(blob.subarray(tocOffset, blob.length - FOOTER_SIZE));
  assert.equal(tocTar.subarray(0, TOC_NAME.length).toString("utf8"), TOC_NAME);
  const size = Number.parseInt(tocTar.subarray(124, 136).toString("ascii"), 8);
  const tocJson = tocTar.subarray(512, 512 + size);
  assert.equal(r.tocDigest, sha(tocJson));
  const toc = JSON.parse(tocJson.toString("utf8")) as { entries: Array<Record<string, unknown>> };

  const chunks = toc.entries.filter((e) => e["name"] === "dir/big.bin");
  assert.deepEqual(
    chunks.map((c) => [c["type"], c["chunkOffset"], c["chunkSize"]]),
    [
      ["reg", 0, CHUNK_SIZE],
      ["chunk", CHUNK_SIZE, CHUNK_SIZE],
      ["chunk", 2 * CHUNK_SIZE, 1000],
    ],
  );
  assert.equal(chunks[0]!["digest"], sha(big));
  assert.equal(chunks[0]!["uid"], 1000);
  assert.equal(chunks[0]!["mode"], 0o600);
  for (const c of chunks) {
    const at = gunzipSync(blob.subarray(c["offset"] as number)).subarray(0, c["chunkSize"] as number);
    const from = c["chunkOffset"] as number;
    assert.ok(at.equals(big.subarray(from, from + (c["chunkSize"] as number))), `chunk at ${from}`);
    assert.equal(c["chunkDigest"], sha(at));
  }
  const names = toc.entries.filter((e) => e["type"] !== "chunk").map((e) => e["name"]);
  assert.deepEqual(names, [".no.prefetch.landmark", "dir/", "dir/big.bin", "dir/empty", "dir/link", `dir/${"long-name-".repeat(15)}`]);
  assert.equal(toc.entries.find((e) => e["name"] === "dir/link")?.["linkName"], "big.bin");

  // Inflated, it is one tar that a reader takes as the layer (plus the landmark and the TOC).
  const seen: string[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (h, stream, next) => {
      seen.push(h.name);
      stream.on("end", next);
      stream.resume();
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  extract.end(inflated);
  await done;
  assert.deepEqual(seen, [".no.prefetch.landmark", "dir", "dir/big.bin", "dir/empty", "dir/link", `dir/${"long-name-".repeat(15)}`, TOC_NAME]);
});
