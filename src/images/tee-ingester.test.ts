/** A download teed to the unpacker: bytes reach both, only the first attempt is teed, and a bad attempt marks the stream broken. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import { LocalContentStore } from "../content/local-content-store.js";
import { sha256 } from "../oci/digest.js";
import { teeIngester } from "./tee-ingester.js";

async function withStore(fn: (store: LocalContentStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "tanto-tee-"));
  try {
    await fn(await LocalContentStore.open(root), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test("every byte reaches the reader and the store; the blob is visible once committed", async () => {
  await withStore(async (store) => {
    const data = randomBytes(9 << 20);
    const tee = teeIngester(store);
    assert.equal(await tee.store.info(sha256(data)), undefined, "the teed store always downloads");
    const read = buffer(tee.body);
    const w = await tee.store.writer();
    for (let off = 0; off < data.length; off += 65536) await w.write(data.subarray(off, off + 65536));
    assert.equal(await store.info(sha256(data)), undefined, "nothing visible before commit");
    assert.equal(await w.commit(data.length, sha256(data)), sha256(data));
    assert.deepEqual(await read, data);
    assert.equal((await store.info(sha256(data)))?.size, data.length);
    assert.equal(tee.broken(), false);
  });
});

test("an abandoned attempt breaks the stream; the next attempt is written to the store only", async () => {
  await withStore(async (store, root) => {
    const data = randomBytes(200_000);
    const tee = teeIngester(store);
    const read = buffer(tee.body);
    read.catch(() => undefined); // asserted below
    const first = await tee.store.writer();
    await first.write(data.subarray(0, 1000));
    await first.abort();
    assert.equal(tee.broken(), true);
    await assert.rejects(read, /download was abandoned/);
    const second = await tee.store.writer();
    await second.write(data);
    await second.commit(data.length, sha256(data));
    assert.equal((await store.info(sha256(data)))?.size, data.length);
    assert.deepEqual(await readdir(join(root, "ingest")), []);
  });
});

test("bytes that fail the digest check mark the stream broken and are not stored", async () => {
  await withStore(async (store) => {
    const data = randomBytes(5000);
    const tee = teeIngester(store);
    const read = buffer(tee.body);
    const w = await tee.store.writer();
    await w.write(data);
    const claimed = sha256("something else");
    await assert.rejects(w.commit(data.length, claimed), /digest mismatch/);
    await w.abort();
    assert.equal(tee.broken(), true);
    assert.deepEqual(await read, data, "the reader saw the bytes, which the caller must discard");
    assert.equal(await store.info(claimed), undefined);
    assert.equal(await store.info(sha256(data)), undefined);
  });
});

test("a reader that gives up does not stall the download", async () => {
  await withStore(async (store) => {
    const data = randomBytes(12 << 20);
    const tee = teeIngester(store);
    tee.body.destroy();
    const w = await tee.store.writer();
    for (let off = 0; off < data.length; off += 1 << 20) await w.write(data.subarray(off, off + (1 << 20)));
    assert.equal(await w.commit(data.length, sha256(data)), sha256(data));
    assert.equal(tee.broken(), false);
  });
});
