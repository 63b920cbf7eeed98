/**
 * Layer blobs arrive gzip- or zstd-compressed, or plain. `decompressStream`
 * returns a Transform that turns the blob bytes into the tar stream. With
 * "auto" the format is sniffed from the first bytes, because media types lie
 * often enough (Docker v2 schema layers are "tar.gzip" whatever they contain).
 *
 *   const tar = blob.pipe(decompressStream("auto"));
 *   await applyLayer(tar, dir, { signal });
 *
 * Errors from corrupt input surface as InvalidArgumentError on the stream.
 */
import { PassThrough, Transform, type TransformCallback } from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import { InvalidArgumentError, messageOf } from "../errors.js";

export type Compression = "gzip" | "zstd" | "none";

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;
const SNIFF_BYTES = ZSTD_MAGIC.length;

/** The compression of a blob whose first bytes are `head`; "none" when unknown or too short. */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (magic: readonly number[]): boolean => head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (starts(GZIP_MAGIC)) return "gzip";
  if (starts(ZSTD_MAGIC)) return "zstd";
  return "none";
}

export function decompressStream(compression: Compression | "auto"): Transform {
  switch (compression) {
    case "gzip":
      return gunzipStream();
    case "zstd":
      return new ZstdDecompressStream();
    case "none":
      return new PassThrough();
    case "auto":
      return new SniffingDecompressStream();
  }
}

/**
 * zlib's gunzip, with its errors mapped into the taxonomy (it reads
 * multi-member gzip too). It inflates on the thread pool, one step per
 * input chunk or full output buffer: 1 MiB output buffers (zlib's default is
 * 16 KiB), fed 1 MiB pieces, mean few steps and few hops through the streams
 * behind it (digest, tar parser) for a large layer.
 */
function gunzipStream(): Transform {
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  return mapErrors(gunzip, "gzip");
}

function mapErrors(stream: Transform, format: string): Transform {
  // Wrapping happens through the destroy path so that pipeline() sees our error.
  const destroy = stream._destroy.bind(stream);
  stream._destroy = (err: Error | null, cb: (error?: Error | null) => void) => {
    const mapped =
      err === null || err instanceof InvalidArgumentError || err.name === "AbortError"
        ? err
        : new InvalidArgumentError(`invalid ${format} data: ${messageOf(err)}`, { cause: err });
    destroy(mapped, cb);
  };
  return stream;
}

/** Streaming zstd on top of fzstd's push-style decoder (which may span many frames). */
class ZstdDecompressStream extends Transform {
  readonly #decoder: Decompress;
  #sawInput = false;

  constructor() {
    super();
    // fzstd may reuse its output window, so every chunk is copied before it leaves.
    this.#decoder = new Decompress((data) => {
      if (data.length > 0) this.push(Buffer.from(data));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (chunk.length === 0) return cb();
    this.#sawInput = true;
    try {
      this.#decoder.push(chunk);
      cb();
    } catch (err) {
      cb(new InvalidArgumentError(`invalid zstd data: ${messageOf(err)}`, { cause: err }));
    }
  }

  override _flush(cb: TransformCallback): void {
    if (!this.#sawInput) return cb(new InvalidArgumentError("invalid zstd data: empty stream"));
    try {
      this.#decoder.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(new InvalidArgumentError(`invalid zstd data: ${messageOf(err)}`, { cause: err }));
    }
  }
}

/**
 * Holds back the first few bytes until it knows the format, then forwards
 * everything through the matching decoder. Backpressure follows the inner
 * decoder's write callbacks.
 */
class SniffingDecompressStream extends Transform {
  #head: Buffer[] = [];
  #headLength = 0;
  #inner: Transform | undefined;
  #innerError: Error | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#inner !== undefined) return this.#forward(chunk, cb);
    this.#head.push(chunk);
    this.#headLength += chunk.length;
    if (this.#headLength < SNIFF_BYTES) return cb();
    this.#forward(this.#start(), cb);
  }

  override _flush(cb: TransformCallback): void {
    // A stream shorter than the longest magic is plain by definition.
    const rest = this.#inner === undefined ? this.#start() : undefined;
    const inner = this.#inner as Transform;
    const finish = (): void => {
      if (this.#innerError !== undefined) return cb(this.#innerError);
      inner.once("end", () => cb(this.#innerError ?? null));
      inner.end();
    };
    if (rest === undefined || rest.length === 0) return finish();
    inner.write(rest, (err) => (err ? cb(err) : finish()));
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.#inner?.destroy();
    cb(err);
  }

  /** Chooses the decoder and returns the held-back bytes it must see first. */
  #start(): Buffer {
    const head = Buffer.concat(this.#head, this.#headLength);
    this.#head = [];
    const inner = decompressStream(detectCompression(head));
    inner.on("data", (data: Buffer) => this.push(data));
    inner.on("error", (err: Error) => {
      this.#innerError = err;
      this.destroy(err);
    });
    this.#inner = inner;
    return head;
  }

  #forward(chunk: Buffer, cb: TransformCallback): void {
    const inner = this.#inner as Transform;
    if (this.#innerError !== undefined) return cb(this.#innerError);
    inner.write(chunk, (err) => cb(err ?? this.#innerError ?? null));
  }
}
