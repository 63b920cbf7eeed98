/**
 * gzip for layer blobs, fast on data that does not compress and on several
 * cores, and still one plain gzip member every reader understands.
 *
 *   await pipeline(tar, compressGzipBlocks(), blobWriterStream);
 *
 * The input is cut into fixed blocks of BLOCK bytes. Each block becomes a
 * run of deflate blocks that ends on a byte boundary (a sync flush) and is
 * never the last, so the runs simply follow each other in one deflate
 * stream; an empty final block and the gzip trailer close it.
 * - A block that a quick look finds incompressible (samples from across it
 *   have the byte entropy of noise) is copied into stored blocks: no
 *   compression work at all, as klauspost's Go gzip does for such data.
 * - Any other block is deflated at `level` in libuv's thread pool, several
 *   at once, with the 32 KiB before it as its dictionary (so matches reach
 *   back across the cut, as in one stream); a block that came out larger
 *   than stored is stored instead.
 * Determinism: where the cuts fall, what a block looks like, its dictionary
 * and so its bytes depend only on the input, never on how the input arrived
 * in chunks, on the number of cores or on timing: equal input, equal blob.
 * Deflated blocks come from Node's bundled zlib, whose output does not
 * depend on CPU features (checked: the same bytes under qemu's `-cpu qemu64`,
 * without SSE4.2 and PCLMUL, as on the host). The header has no name and a
 * zero mtime, like `gzip -n`.
 */
import { Transform } from "node:stream";
import { constants, crc32, deflateRaw } from "node:zlib";

/** Input bytes per block: coarse enough to keep the pool busy, fine enough to find incompressible runs. */
export const BLOCK = 256 * 1024;
/** How far deflate reaches back: the dictionary carried into each block. */
const WINDOW = 32 * 1024;
/** Blocks deflated at once at most (libuv's pool has 4 threads by default; tar reads need some). */
const IN_FLIGHT = 3;
/** A block is sampled in SAMPLES pieces of SAMPLE bytes, spread evenly across it. */
const SAMPLES = 4;
const SAMPLE = 2048;
/**
 * Stored when the samples carry more bits per byte than this. Random bytes
 * measure 7.97-7.98 on samples of this size; text, code and binaries stay
 * below 7.5, and zip-like archives (deflated entries between headers that
 * still shrink by 5-15%) mostly below 7.95.
 */
const NOISE_BITS = 7.96;
/** The most one stored block carries. */
const STORED_MAX = 0xffff;

/** ID1 ID2, CM=deflate, no flags, mtime 0, no extra flags, OS=Unix. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
/** A final, empty block with fixed codes: the end of the deflate stream. */
const FINAL_BLOCK = Buffer.from([3, 0]);

/** Part of a block: a view of one input chunk. */
type Piece = Buffer;

interface Job {
  out?: Buffer;
  done: Promise<Buffer>;
}

/** A gzip Transform (see the file comment); `level` applies to compressible blocks (default 6). */
export function compressGzipBlocks(opts: { level?: number } = {}): Transform {
  const level = opts.level ?? 6;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let crc = 0;
  let total = 0;
  let window: Buffer | undefined;
  const jobs: Job[] = [];
  let headerSent = false;

  const startBlock = (block: Piece[], size: number): void => {
    for (const piece of block) crc = crc32(piece, crc);
    total += size;
    const dictionary = window;
    window = range(block, Math.max(0, size - WINDOW), size);
    const job: Job = { done: encodeBlock(block, size, dictionary, level) };
    job.done.then(
      (out) => (job.out = out),
      () => undefined,
    );
    jobs.push(job);
  };

  // Blocks are lists of views of the input chunks: a stored block then copies each byte once.
  const cutBlocks = (final: boolean): void => {
    while (pendingBytes >= BLOCK || (final && pendingBytes > 0)) {
      const size = Math.min(BLOCK, pendingBytes);
      const block: Piece[] = [];
      for (let need = size; need > 0; ) {
        const head = pending[0] as Buffer;
        if (head.length <= need) {
          block.push(head);
          pending.shift();
          need -= head.length;
        } else {
          block.push(head.subarray(0, need));
          pending[0] = head.subarray(need);
          need = 0;
        }
      }
      pendingBytes -= size;
      startBlock(block, size);
    }
  };

  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!headerSent) {
        this.push(HEADER);
        headerSent = true;
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      cutBlocks(false);
      void (async () => {
        // Push what is ready, in order; wait only while too many blocks are in flight.
        while (jobs.length > 0 && (jobs[0]?.out !== undefined || jobs.length > IN_FLIGHT)) {
          this.push(await (jobs.shift() as Job).done);
        }
      })().then(() => cb(), cb);
    },
    flush(cb) {
      cutBlocks(true);
      void (async () => {
        if (!headerSent) this.push(HEADER);
        for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) this.push(await job.done);
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(crc >>> 0, 0);
        trailer.writeUInt32LE(total >>> 0, 4);
        this.push(Buffer.concat([FINAL_BLOCK, trailer]));
      })().then(() => cb(), cb);
    },
  });
}

/** One block's deflate run: byte-aligned at its end, never final. */
async function encodeBlock(pieces: Piece[], size: number, dictionary: Buffer | undefined, level: number): Promise<Buffer> {
  if (level === 0 || incompressible(pieces, size)) return stored(pieces, size);
  const block = range(pieces, 0, size);
  const out = await new Promise<Buffer>((resolve, reject) => {
    deflateRaw(block, { level, finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) }, (err, res) => (err ? reject(err) : resolve(res)));
  });
  return out.length <= storedSize(size) ? out : stored(pieces, size);
}

/**
 * Whether the block looks like noise: its byte entropy, over samples from
 * across it, is close to 8 bits (compressed or encrypted data, random bytes).
 * Counting bytes is far cheaper than a trial deflate, which sets up ~256 KiB
 * of state each time. Small blocks are always compressed.
 */
export function incompressible(pieces: readonly Piece[], size: number): boolean {
  if (size < SAMPLES * SAMPLE * 2) return false;
  const counts = new Uint32Array(256);
  const step = Math.floor((size - SAMPLE) / (SAMPLES - 1));
  for (let i = 0; i < SAMPLES; i++) {
    const sample = range(pieces, i * step, i * step + SAMPLE);
    for (let at = 0; at < sample.length; at++) {
      const b = sample[at] as number;
      counts[b] = (counts[b] as number) + 1;
    }
  }
  const n = SAMPLES * SAMPLE;
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= (c / n) * Math.log2(c / n);
  return bits > NOISE_BITS;
}

function storedSize(n: number): number {
  return n + 5 * Math.ceil(n / STORED_MAX);
}

/** A non-empty block as stored deflate blocks (header byte, LEN, NLEN, bytes), none final. */
export function stored(pieces: readonly Piece[], size: number): Buffer {
  const out = Buffer.allocUnsafe(storedSize(size));
  let at = 0;
  let piece = 0;
  let offset = 0; // in pieces[piece]
  for (let left = size; left > 0; ) {
    const len = Math.min(STORED_MAX, left);
    out[at] = 0; // BFINAL=0, BTYPE=00, then padding to the byte boundary
    out.writeUInt16LE(len, at + 1);
    out.writeUInt16LE(~len & 0xffff, at + 3);
    at += 5;
    for (let need = len; need > 0; ) {
      const src = pieces[piece] as Buffer;
      const n = Math.min(need, src.length - offset);
      src.copy(out, at, offset, offset + n);
      at += n;
      need -= n;
      offset += n;
      if (offset === src.length) {
        piece++;
        offset = 0;
      }
    }
    left -= len;
  }
  return out;
}

/** Bytes [from, to) of a block: a view when they lie in one piece, else a copy. */
function range(pieces: readonly Piece[], from: number, to: number): Buffer {
  let start = 0;
  const parts: Buffer[] = [];
  for (const p of pieces) {
    const end = start + p.length;
    if (end > from && start < to) parts.push(p.subarray(Math.max(0, from - start), Math.min(p.length, to - start)));
    if (end >= to) break;
    start = end;
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, to - from);
}
