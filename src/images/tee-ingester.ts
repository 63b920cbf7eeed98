/**
 * A layer's download fed to the unpacker while it is written to the content
 * store: the bytes of the registry's response go to the store's writer and,
 * chunk by chunk, into `body`, a stream the unpacker reads at once. So
 * download, decompression and unpacking overlap instead of running one after
 * the other.
 *
 * Nothing is trusted early: the blob becomes visible only when the store's
 * writer has verified its digest and size, and the caller commits the layer's
 * snapshot only after that (a mismatch fails the download, which breaks
 * `body`, and the half-applied snapshot is discarded).
 *
 *   const tee = teeIngester(content);
 *   const download = registry.fetchBlob(ref, layer, tee.store);
 *   await applyLayer(tee.body.pipe(decompressStream("gzip")), dir);
 *   await download; // verified; now commit
 *
 * Only the first writer is teed. The registry client opens another one when
 * it moves on to the next endpoint (a mirror failed mid-blob or sent other
 * bytes); `broken` then says that `body` cannot be trusted, and the caller
 * unpacks again from the store once the download succeeded.
 */
import { PassThrough } from "node:stream";
import type { ContentStore, Info, Ingester, Provider, Writer } from "../content/types.js";
import { UnavailableError } from "../errors.js";
import type { Digest } from "../oci/digest.js";

export interface TeeIngester {
  /** Hand this to `fetchBlob`: it always downloads (info says nothing is stored) and tees the first writer. */
  store: Ingester & Provider;
  /** The downloaded bytes, as they arrive; ends when the download is complete (before its digest is checked). */
  body: PassThrough;
  /**
   * True when what `body` carried is not (all of) the verified blob: the teed
   * attempt was abandoned or failed its digest check. Whatever was unpacked
   * from it must be discarded.
   */
  broken(): boolean;
}

export function teeIngester(content: ContentStore): TeeIngester {
  // A large buffer lets the download run ahead of the unpacker for a while.
  const body = new PassThrough({ highWaterMark: 4 << 20 });
  let teed = false;
  let broken = false;
  const feed = (chunk: Uint8Array): Promise<void> | undefined => {
    if (body.destroyed || body.writableEnded) return undefined;
    if (body.write(chunk)) return undefined;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        body.off("drain", done);
        body.off("close", done);
        resolve();
      };
      body.on("drain", done);
      body.on("close", done);
    });
  };
  const store: Ingester & Provider = {
    info: async (): Promise<Info | undefined> => undefined,
    readStream: (digest) => content.readStream(digest),
    readBytes: (digest) => content.readBytes(digest),
    path: (digest) => content.path(digest),
    put: (data, expected) => content.put(data, expected),
    writer: async (opts): Promise<Writer> => {
      const inner = await content.writer(opts);
      if (teed) return inner;
      teed = true;
      return {
        write: async (chunk) => {
          // The file write and the reader's pace, both before the next chunk.
          await Promise.all([inner.write(chunk), feed(chunk)]);
        },
        digest: () => inner.digest(),
        commit: async (size, expected): Promise<Digest> => {
          body.end();
          try {
            return await inner.commit(size, expected);
          } catch (err) {
            // What `body` carried is not the blob; another endpoint may still deliver it.
            broken = true;
            throw err;
          }
        },
        abort: async () => {
          if (!body.writableEnded && !body.destroyed) {
            broken = true;
            body.destroy(new UnavailableError("the layer's download was abandoned before it completed"));
          }
          await inner.abort();
        },
      };
    },
  };
  return { store, body, broken: () => broken };
}
