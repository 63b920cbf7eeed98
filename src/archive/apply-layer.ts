/**
 * Unpacks one OCI layer tar into a directory. Two ways to handle whiteouts,
 * chosen with `whiteouts`:
 *
 * "overlay" (the default): the target is an EMPTY directory that becomes an
 * overlay upper layer, stored in overlayfs's own format. Lower layers are
 * never consulted: the target directory is the whole world.
 *
 *   dir/.wh.name        → character device 0/0 at dir/name
 *   dir/.wh..wh..opq    → xattr trusted.overlay.opaque=y on dir
 *
 * "delete": the target is the merged view of an overlay mount (lowerdir =
 * parent layers, upperdir = the new layer), as containerd's generic applier
 * does. Parent paths then resolve through the lower layers (Debian's
 * `lib -> usr/lib` stays a symlink, existing parents keep their mode and
 * owner), and whiteouts are applied by deleting; the kernel records each
 * deletion as a whiteout in the upper directory (trusted.overlay.* xattrs
 * cannot be set through the mount anyway).
 *
 *   dir/.wh.name        → remove dir/name, recursively (missing is fine)
 *   dir/.wh..wh..opq    → remove every child of dir, recursively
 *
 * As OCI requires, whiteouts hide only lower layers: an entry this layer
 * already wrote is kept (in "delete" mode, the paths written are remembered
 * for that; an opaque marker keeps this layer's entries below the directory
 * and removes the rest, whatever the order of the entries).
 *
 *   const tar = blob.pipe(decompressStream("auto"));
 *   const { size } = await applyLayer(tar, snapshotDir, { signal });
 *   await applyLayer(tar, mergedDir, { signal, whiteouts: "delete" });
 *
 * How entries are written, and why that is safe against a hostile tar, is
 * described in layer-writer.ts.
 *
 * On failure the target is left half-written; the caller removes it (an
 * active snapshot is simply discarded). The input stream is consumed, and
 * destroyed if applying fails.
 */
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { CancelledError, EngineError, InvalidArgumentError, messageOf } from "../errors.js";
import { LayerWriter } from "./layer-writer.js";
import { withPaxRecords } from "./pax.js";

export interface ApplyLayerOptions {
  signal?: AbortSignal;
  /**
   * "overlay" (default): write whiteouts in overlayfs's format into an empty
   * upper directory. "delete": apply them by deleting, through a mounted
   * overlay's merged view.
   */
  whiteouts?: "overlay" | "delete";
}

export interface ApplyLayerResult {
  /** Bytes of the (uncompressed) tar stream that was applied. */
  size: number;
}

export async function applyLayer(tarStream: Readable, targetDir: string, opts: ApplyLayerOptions = {}): Promise<ApplyLayerResult> {
  const { signal, whiteouts = "overlay" } = opts;
  if (signal?.aborted) throw new CancelledError(`applying layer to "${targetDir}" cancelled`, { cause: signal.reason });

  let size = 0;
  let tarError: Error | undefined;
  const extract = tar.extract();
  extract.on("error", (err: Error) => {
    tarError ??= err;
  });
  let sourceError: Error | undefined;
  const onSourceError = (err: Error): void => {
    sourceError ??= err;
    extract.destroy(err);
  };
  const onAbort = (): void => {
    extract.destroy(new CancelledError(`applying layer to "${targetDir}" cancelled`, { cause: signal?.reason }));
  };
  tarStream.on("data", (chunk: Buffer) => {
    size += chunk.length;
  });
  tarStream.on("error", onSourceError);
  signal?.addEventListener("abort", onAbort, { once: true });
  tarStream.pipe(extract as unknown as NodeJS.WritableStream);

  const writer = new LayerWriter(targetDir, whiteouts, signal);
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      await writer.apply(withPaxRecords(entry.header), entry);
    }
    await writer.finish();
    return { size };
  } catch (err) {
    tarStream.unpipe();
    tarStream.destroy();
    if (signal?.aborted) throw new CancelledError(`applying layer to "${targetDir}" cancelled`, { cause: err });
    // An entry's data stream breaks before the parser reports why; give it a turn to say so.
    await new Promise((resolve) => setImmediate(resolve));
    if (sourceError !== undefined) {
      throw sourceError instanceof EngineError
        ? sourceError
        : new EngineError(`reading layer for "${targetDir}": ${messageOf(sourceError)}`, { cause: sourceError });
    }
    const parseError = tarError;
    if (parseError instanceof EngineError) throw parseError;
    if (parseError !== undefined) throw new InvalidArgumentError(`invalid layer tar: ${messageOf(parseError)}`, { cause: err });
    if (err instanceof EngineError) throw err;
    throw new InvalidArgumentError(`invalid layer tar: ${messageOf(err)}`, { cause: err });
  } finally {
    tarStream.off("error", onSourceError);
    signal?.removeEventListener("abort", onAbort);
  }
}
