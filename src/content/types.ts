/**
 * The content store holds blobs (layers, configs, manifests) by digest.
 *
 * Lifecycle: a writer is opened for an expected digest, bytes are streamed
 * in, and `commit(size, expected)` verifies both before the blob becomes
 * visible under `blobs/sha256/<hex>`. Nothing half-written is ever readable;
 * an aborted writer leaves only an ingest file that start-up removes.
 *
 *   const w = await store.writer({ expected });
 *   for await (const chunk of body) await w.write(chunk);
 *   await w.commit(size, expected);
 */
import type { Readable } from "node:stream";
import type { Digest } from "../oci/digest.js";

export interface Info {
  digest: Digest;
  size: number;
}

export interface Provider {
  /** Size and digest of a committed blob, or undefined. */
  info(digest: Digest): Promise<Info | undefined>;
  readStream(digest: Digest): Readable;
  readBytes(digest: Digest): Promise<Buffer>;
  /** Filesystem path of a committed blob (for tools that read files). */
  path(digest: Digest): string;
}

export interface Writer {
  write(chunk: Uint8Array): Promise<void>;
  /** Digest of the bytes written, to name the blob elsewhere while it is committed; nothing may be written after. */
  digest(): Digest;
  /** Verify size and digest, then make the blob visible. */
  commit(size: number | undefined, expected: Digest | undefined): Promise<Digest>;
  /** Drop what was written. Safe to call after commit (no-op). */
  abort(): Promise<void>;
}

export interface Ingester {
  writer(opts?: { expected?: Digest }): Promise<Writer>;
  /** Write bytes in one go (small blobs: configs, manifests). */
  put(data: Uint8Array, expected?: Digest): Promise<Digest>;
}

export interface Manager {
  delete(digest: Digest): Promise<void>;
  list(): AsyncIterable<Info>;
}

export type ContentStore = Provider & Ingester & Manager;
