/**
 * eStargz: a gzip layer that every reader takes as plain gzip, laid out so
 * that lazy pullers can fetch single files. The blob is a series of gzip
 * members:
 *
 *   [landmark + headers…] [file chunk] [headers…] [file chunk] … [TOC tar] [footer]
 *
 * Each regular file's contents (in chunks of at most CHUNK_SIZE) start a new
 * member, so a member's compressed offset is where a reader starts inflating.
 * The TOC (`stargz.index.json`, a tar entry of its own member) lists every
 * entry with those offsets and digests; the 51-byte footer is an empty gzip
 * member whose header's extra field holds the TOC's offset ("%016xSTARGZ").
 * Inflated, the blob is one ordinary tar: the layer's entries, the TOC entry,
 * the end-of-archive blocks.
 *
 * The input is an uncompressed layer tar (from packDirectory); its records
 * are parsed only as far as the TOC needs (ustar, pax and GNU long names).
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip } from "node:zlib";

const gzipAsync = promisify(gzip);

/** Largest chunk of a file in one gzip member (as the estargz tools' default). */
export const CHUNK_SIZE = 4 << 20;
export const TOC_NAME = "stargz.index.json";
/** The entry that tells lazy pullers there is nothing to prefetch. */
export const NO_PREFETCH_LANDMARK = ".no.prefetch.landmark";
export const FOOTER_SIZE = 51;
/** Annotations of an eStargz layer's descriptor. */
export const TOC_DIGEST_ANNOTATION = "containerd.io/snapshot/stargz/toc.digest";
export const UNCOMPRESSED_SIZE_ANNOTATION = "io.containers.estargz.uncompressed-size";

export interface EstargzResult {
  /** Digest of the inflated stream (the layer's diff ID). */
  diffId: string;
  uncompressedSize: number;
  /** Digest of the TOC JSON. */
  tocDigest: string;
}

interface TocEntry {
  name: string;
  type: string;
  size?: number;
  modtime?: string;
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  userName?: string;
  groupName?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, string>;
  digest?: string;
  offset?: number;
  chunkOffset?: number;
  chunkSize?: number;
  chunkDigest?: string;
}

/** Pulls exact byte counts out of an async stream of buffers. */
class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;
  constructor(source: AsyncIterable<Buffer>) {
    this.#it = source[Symbol.asyncIterator]();
  }
  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.#buf.length < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else this.#buf = this.#buf.length === 0 ? r.value : Buffer.concat([this.#buf, r.value]);
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }
}

const cstr = (b: Buffer, from: number, len: number): string => {
  const s = b.subarray(from, from + len);
  const nul = s.indexOf(0);
  return (nul < 0 ? s : s.subarray(0, nul)).toString("utf8");
};

function octal(b: Buffer, from: number, len: number): number {
  const field = b.subarray(from, from + len);
  if ((field[0]! & 0x80) !== 0) {
    // base-256, for sizes and ids too big for octal
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const text = cstr(b, from, len).trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

/** "key=value" records of a pax extended header. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.subarray(at, space).toString("ascii"));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

const padding = (size: number): number => (512 - (size % 512)) % 512;

const TYPES: Record<string, string> = {
  "0": "reg",
  "\0": "reg",
  "7": "reg",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

function tocName(name: string): string {
  return name.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
}

/** A tar header block for a regular file (ustar, short name), as the TOC entry's own. */
function fileHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, at: number, len: number) => h.write(s, at, len, "utf8");
  const oct = (n: number, at: number, len: number) => put(`${n.toString(8).padStart(len - 1, "0")}\0`, at, len);
  put(name, 0, 100);
  oct(0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(0, 136, 12);
  h.fill(0x20, 148, 156);
  put("0", 156, 1);
  put("ustar\u000000", 257, 8);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

/** The empty gzip member whose extra field points at the TOC: exactly FOOTER_SIZE bytes. */
export function estargzFooter(tocOffset: number): Buffer {
  const payload = Buffer.from(`${tocOffset.toString(16).padStart(16, "0")}STARGZ`, "ascii");
  const extra = Buffer.concat([Buffer.from("SG", "ascii"), u16(payload.length), payload]);
  return Buffer.concat([
    Buffer.from([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff]), // magic, deflate, FEXTRA, mtime 0, OS unknown
    u16(extra.length),
    extra,
    Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]), // one final stored block, empty
    Buffer.alloc(8), // CRC-32 and size of nothing
  ]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/**
 * Write the eStargz blob of the layer tar `source` to `write`, in order.
 * Resolves with the diff ID, the inflated size and the TOC's digest.
 */
export async function writeEstargz(source: AsyncIterable<Buffer>, write: (chunk: Buffer) => Promise<void>): Promise<EstargzResult> {
  const diff = createHash("sha256");
  let uncompressed = 0;
  let offset = 0;
  let pending: Buffer[] = [];
  const raw = (b: Buffer): void => {
    diff.update(b);
    uncompressed += b.length;
    pending.push(b);
  };
  /** Close the open member (if it holds anything). */
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const member = await gzipAsync(Buffer.concat(pending));
    pending = [];
    await write(member);
    offset += member.length;
  };
  const entries: TocEntry[] = [];

  // The landmark first, as the estargz tools write it.
  const landmark = Buffer.from([0xf]);
  raw(fileHeader(NO_PREFETCH_LANDMARK, 1));
  await flush();
  entries.push({ name: NO_PREFETCH_LANDMARK, type: "reg", size: 1, mode: 0o644, offset, digest: sha(landmark), chunkDigest: sha(landmark), chunkSize: 1 });
  raw(landmark);
  raw(Buffer.alloc(padding(1)));

  const reader = new ByteReader(source);
  let prefix: Buffer[] = [];
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const header = await reader.read(512);
    if (header.length < 512 || header.every((b) => b === 0)) break; // end of archive: ours comes after the TOC
    const type = String.fromCharCode(header[156]!);
    let size = octal(header, 124, 12);
    if (type === "x" || type === "g" || type === "L" || type === "K") {
      const data = await reader.read(size + padding(size));
      prefix.push(header, data);
      const body = data.subarray(0, size);
      if (type === "x") pax = new Map([...pax, ...paxRecords(body)]);
      if (type === "L") longName = cstr(body, 0, body.length);
      if (type === "K") longLink = cstr(body, 0, body.length);
      continue;
    }
    if (pax.has("size")) size = Number(pax.get("size"));
    const ustarPrefix = cstr(header, 345, 155);
    const name = tocName(pax.get("path") ?? longName ?? (ustarPrefix ? `${ustarPrefix}/${cstr(header, 0, 100)}` : cstr(header, 0, 100)));
    const kind = TYPES[type] ?? "reg";
    const entry: TocEntry = {
      name: kind === "dir" ? name.replace(/\/?$/, "/") : name.replace(/\/$/, ""),
      type: kind,
      modtime: new Date(octal(header, 136, 12) * 1000).toISOString().replace(/\.000Z$/, "Z"),
      mode: octal(header, 100, 8),
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
    };
    const uname = cstr(header, 265, 32);
    const gname = cstr(header, 297, 32);
    if (uname) entry.userName = uname;
    if (gname) entry.groupName = gname;
    const link = pax.get("linkpath") ?? longLink ?? cstr(header, 157, 100);
    // A hardlink names another entry (as the TOC names it); a symlink's target is kept as written.
    if (kind === "symlink" || kind === "hardlink") entry.linkName = kind === "hardlink" ? tocName(link) : link;
    if (kind === "char" || kind === "block") {
      entry.devMajor = octal(header, 329, 8);
      entry.devMinor = octal(header, 337, 8);
    }
    const xattrs = [...pax].filter(([k]) => k.startsWith("SCHILY.xattr."));
    if (xattrs.length > 0)
      entry.xattrs = Object.fromEntries(xattrs.map(([k, v]) => [k.slice("SCHILY.xattr.".length), Buffer.from(v, "latin1").toString("base64")]));
    for (const b of prefix) raw(b);
    raw(header);
    prefix = [];
    pax = new Map();
    longName = undefined;
    longLink = undefined;

    if (kind !== "reg" || size === 0) {
      if (kind === "reg") entry.size = 0;
      entries.push(entry);
      if (size > 0) raw(await reader.read(size + padding(size))); // data of other kinds is passed through
      continue;
    }
    entry.size = size;
    const whole = createHash("sha256");
    const chunks: TocEntry[] = [];
    for (let done = 0; done < size; ) {
      const n = Math.min(CHUNK_SIZE, size - done);
      const data = await reader.read(n);
      if (data.length < n) throw new Error(`layer tar ends inside "${name}"`);
      await flush();
      whole.update(data);
      const chunk: TocEntry = done === 0 ? entry : { name: entry.name, type: "chunk" };
      chunk.offset = offset;
      chunk.chunkOffset = done;
      chunk.chunkSize = n;
      chunk.chunkDigest = sha(data);
      chunks.push(chunk);
      raw(data);
      done += n;
    }
    entry.digest = `sha256:${whole.digest("hex")}`;
    entries.push(...chunks);
    raw(await reader.read(padding(size)));
  }
  // What is left of the source (its end-of-archive blocks) is not copied.
  while ((await reader.read(1 << 16)).length > 0);
  await flush();

  const toc = Buffer.from(JSON.stringify({ version: 1, entries }), "utf8");
  const tocOffset = offset;
  raw(fileHeader(TOC_NAME, toc.length));
  raw(toc);
  raw(Buffer.alloc(padding(toc.length) + 1024));
  await flush();
  await write(estargzFooter(tocOffset));
  return { diffId: `sha256:${diff.digest("hex")}`, uncompressedSize: uncompressed, tocDigest: sha(toc) };
}

function sha(b: Buffer): string {
  return `sha256:${createHash("sha256").update(b).digest("hex")}`;
}
