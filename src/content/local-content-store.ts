/**
 * A content store on the local filesystem: `<root>/blobs/sha256/<hex>` for
 * committed blobs, `<root>/ingest/<random>` for writes in progress. A blob is
 * renamed into place only after its digest and size were verified, and the
 * file is fsynced first so a crash never leaves a committed but torn blob
 * (large blobs are flushed as they arrive, so that sync is short).
 */

import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { type Digest, Digester, digestHex, isDigest, sha256 } from "../oci/digest.js";
import type { ContentStore, Info, Writer } from "./types.js";

/** Written bytes after which a writer starts flushing them in the background. */
const EARLY_SYNC_BYTES = 16 << 20;

export class LocalContentStore implements ContentStore {
  readonly #blobs: string;
  readonly #ingest: string;

  private constructor(root: string) {
    this.#blobs = path.join(root, "blobs", "sha256");
    this.#ingest = path.join(root, "ingest");
  }

  /** Open the store, removing ingest files left by a crash. */
  static async open(root: string): Promise<LocalContentStore> {
    const store = new LocalContentStore(root);
    await Promise.all([
      fs.mkdir(store.#blobs, { recursive: true }),
      fs.rm(store.#ingest, { recursive: true, force: true }).then(() => fs.mkdir(store.#ingest, { recursive: true })),
    ]);
    return store;
  }

  path(digest: Digest): string {
    return path.join(this.#blobs, digestHex(digest));
  }

  async info(digest: Digest): Promise<Info | undefined> {
    try {
      const st = await fs.stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  readStream(digest: Digest): Readable {
    // 1 MiB reads: a layer unpacked from here is one gunzip step per read.
    return createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      return await fs.readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`blob ${digest} not found in content store`);
      throw err;
    }
  }

  async writer(): Promise<Writer> {
    const tmp = path.join(this.#ingest, randomBytes(12).toString("hex"));
    const handle = await fs.open(tmp, "wx", 0o644);
    const digester = new Digester();
    let done = false;
    // Large blobs are flushed to disk as they are written, a step behind the writes, so the
    // sync before commit finds little left to do instead of the whole blob.
    let unsynced = 0;
    let syncing: Promise<void> | undefined;
    const settleSync = async (): Promise<void> => {
      while (syncing) await syncing;
    };
    const finish = async (): Promise<void> => {
      if (done) return;
      done = true;
      await settleSync();
      await handle.close();
    };
    return {
      write: async (chunk) => {
        digester.update(chunk);
        await handle.write(chunk);
        unsynced += chunk.length;
        if (unsynced >= EARLY_SYNC_BYTES && syncing === undefined) {
          unsynced = 0;
          // A failure here shows again in the sync at commit, which is awaited.
          syncing = handle
            .datasync()
            .catch(() => undefined)
            .finally(() => {
              syncing = undefined;
            });
        }
      },
      digest: () => digester.digest(),
      commit: async (size, expected) => {
        const actual = digester.digest();
        try {
          if (expected !== undefined && actual !== expected) {
            throw new FailedPreconditionError(`digest mismatch: expected ${expected}, got ${actual}`);
          }
          if (size !== undefined && digester.size !== size) {
            throw new FailedPreconditionError(`size mismatch for ${actual}: expected ${size} bytes, got ${digester.size}`);
          }
          await settleSync();
          await handle.sync();
          await finish();
          await fs.rename(tmp, this.path(actual));
          return actual;
        } catch (err) {
          await finish().catch(() => undefined);
          await fs.rm(tmp, { force: true });
          throw err;
        }
      },
      abort: async () => {
        if (done) return;
        await finish();
        await fs.rm(tmp, { force: true });
      },
    };
  }

  async put(data: Uint8Array, expected?: Digest): Promise<Digest> {
    // A blob committed before (fsynced then) is these very bytes: no second write and sync.
    // Each session resolving an image puts its manifest and config again.
    const digest = sha256(data);
    if (expected === undefined || digest === expected) {
      const have = await this.info(digest);
      if (have?.size === data.length) return digest;
    }
    const w = await this.writer();
    try {
      await w.write(data);
      return await w.commit(data.length, expected);
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }

  async *list(): AsyncIterable<Info> {
    for (const name of await fs.readdir(this.#blobs)) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const st = await fs.stat(path.join(this.#blobs, name));
      yield { digest, size: st.size };
    }
  }
}
