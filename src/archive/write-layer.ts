/**
 * Packs a directory tree into a deterministic tar: the inverse of applyLayer.
 * Pointed at an overlay upperdir it yields an OCI layer, because overlay's
 * own markers are turned back into OCI whiteouts:
 *
 *   char device 0/0 at dir/name          → dir/.wh.name
 *   xattr trusted.overlay.opaque=y on dir → dir/.wh..wh..opq
 *
 *   const tar = packDirectory(upperdir, { signal });
 *   await pipeline(tar, compressGzip(), blobWriterStream); // compressors.ts
 *
 * Determinism: names are visited in byte order, uname/gname are left empty,
 * overlay markers carry fixed metadata, and regular files that share an
 * inode become hardlinks to the first name in that order. Two equal trees
 * give equal bytes (mtimes are part of the tree, at one-second precision).
 * The root directory itself is not an entry; its opaque marker is.
 */
import { constants, type Stats } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import tar, { type Header, type Pack } from "tar-stream";
import { CancelledError, EngineError, messageOf } from "../errors.js";
import { isWhiteout, OPAQUE_WHITEOUT, OPAQUE_XATTR, runTool, WHITEOUT_PREFIX } from "./overlay-format.js";
import { paxForIds } from "./pax.js";

export interface PackDirectoryOptions {
  signal?: AbortSignal;
}

type EntryHeader = Partial<Header> & Pick<Header, "name">;

const READ_CHUNK = 256 * 1024;
const EPOCH = new Date(0);

/**
 * A tar stream of everything below `dir`. Errors (including cancellation)
 * arrive as errors on the returned stream; destroying the stream stops the walk.
 */
export function packDirectory(dir: string, opts: PackDirectoryOptions = {}): Readable {
  const pack = tar.pack();
  const stop = new AbortController();
  const signal = opts.signal === undefined ? stop.signal : AbortSignal.any([opts.signal, stop.signal]);
  const out = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
  out.once("close", () => stop.abort(new CancelledError("tar stream closed by its reader")));

  new DirectoryPacker(resolve(dir), pack, signal).run().then(
    () => pack.finalize(),
    (err: unknown) => {
      const wrapped =
        signal.aborted && !(err instanceof CancelledError)
          ? new CancelledError(`packing "${dir}" cancelled`, { cause: err })
          : err instanceof EngineError
            ? err
            : new EngineError(`packing "${dir}": ${messageOf(err)}`, { cause: err });
      pack.destroy(wrapped);
    },
  );
  return out;
}

class DirectoryPacker {
  readonly #root: string;
  readonly #pack: Pack;
  readonly #signal: AbortSignal;
  /** "dev:ino" → the first name of a regular file with several links. */
  readonly #inodes = new Map<string, string>();
  #opaque = new Set<string>();

  constructor(root: string, pack: Pack, signal: AbortSignal) {
    this.#root = root;
    this.#pack = pack;
    this.#signal = signal;
  }

  async run(): Promise<void> {
    const st = await lstat(this.#root);
    if (!st.isDirectory()) throw new EngineError(`cannot pack "${this.#root}": not a directory`);
    this.#opaque = await readOpaqueDirs(this.#root, this.#signal);
    if (this.#opaque.has("")) await this.#add(markerHeader(OPAQUE_WHITEOUT));
    await this.#walk("");
  }

  async #walk(rel: string): Promise<void> {
    const names = await readdir(join(this.#root, rel));
    names.sort(compareBytes);
    for (const name of names) {
      this.#signal.throwIfAborted();
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const abs = join(this.#root, childRel);
      const st = await lstat(abs);
      const base = { name: childRel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };

      if (st.isDirectory()) {
        await this.#add({ ...base, name: `${childRel}/`, type: "directory" });
        if (this.#opaque.has(childRel)) await this.#add(markerHeader(`${childRel}/${OPAQUE_WHITEOUT}`));
        await this.#walk(childRel);
      } else if (isWhiteout(st)) {
        const prefix = rel === "" ? "" : `${rel}/`;
        await this.#add(markerHeader(`${prefix}${WHITEOUT_PREFIX}${name}`));
      } else if (st.isFile()) {
        await this.#file(abs, childRel, st, base);
      } else if (st.isSymbolicLink()) {
        await this.#add({ ...base, type: "symlink", linkname: await readlink(abs) });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const type = st.isCharacterDevice() ? "character-device" : "block-device";
        await this.#add({ ...base, type, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) });
      } else if (st.isFIFO()) {
        await this.#add({ ...base, type: "fifo" });
      }
      // Sockets have no tar form; like Docker, they are left out.
    }
  }

  async #file(abs: string, rel: string, st: Stats, base: EntryHeader): Promise<void> {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#inodes.get(key);
      if (first !== undefined) return this.#add({ ...base, type: "link", linkname: first, size: 0 });
      this.#inodes.set(key, rel);
    }
    const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      await this.#add({ ...base, type: "file", size: st.size }, async (sink) => {
        let remaining = st.size;
        while (remaining > 0) {
          this.#signal.throwIfAborted();
          const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, remaining));
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) throw new EngineError(`"${rel}" shrank while being packed`);
          remaining -= bytesRead;
          if (!sink.write(buf.subarray(0, bytesRead))) await waitForDrain(sink, this.#signal);
        }
      });
    } finally {
      await fh.close();
    }
  }

  /** Adds one entry; `body` writes its data. Resolves once tar-stream has taken the entry. */
  async #add(plain: EntryHeader, body?: (sink: EntrySink) => Promise<void>): Promise<void> {
    // Owners above the ustar field's range travel in PAX records (tar-stream would clamp them).
    const pax = paxForIds(plain.uid, plain.gid);
    const header = pax === undefined ? plain : { ...plain, pax };
    let sink: EntrySink | undefined;
    const done = new Promise<void>((resolveDone, reject) => {
      sink = this.#pack.entry(header, (err) => (err ? reject(err) : resolveDone()));
    });
    // Keep a rejection from surfacing as unhandled while the body is still running.
    done.catch(() => undefined);
    const s = sink as EntrySink;
    // The pack torn down with an error (its reader hung up) errors the entry too;
    // that failure reaches us through `done` and the walk's signal, not as an event.
    s.on("error", () => undefined);
    if (body !== undefined) {
      try {
        await body(s);
      } catch (err) {
        s.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    }
    s.end(undefined);
    await done;
  }
}

type EntrySink = ReturnType<Pack["entry"]>;

/** Headers of overlay markers: no data, fixed metadata, so that markers never make two layers differ. */
function markerHeader(name: string): EntryHeader {
  return { name, type: "file", size: 0, mode: 0o644, uid: 0, gid: 0, mtime: EPOCH };
}

function waitForDrain(sink: EntrySink, signal: AbortSignal): Promise<void> {
  return new Promise((resolveDrain, reject) => {
    const cleanup = (): void => {
      sink.off("drain", onDrain);
      sink.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
    };
    const onDrain = (): void => {
      cleanup();
      resolveDrain();
    };
    const onClose = (): void => {
      cleanup();
      reject(new EngineError("tar entry closed before its data was written"));
    };
    const onAbort = (): void => {
      cleanup();
      reject(new CancelledError("packing cancelled", { cause: signal.reason }));
    };
    sink.on("drain", onDrain);
    sink.on("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Relative paths ("" for the root) of directories marked opaque. One
 * getfattr walk for the whole tree: spawning it per directory would cost
 * more than the packing itself.
 */
async function readOpaqueDirs(root: string, signal: AbortSignal): Promise<Set<string>> {
  const out = await runTool(
    "getfattr",
    ["-R", "-P", "-h", "--absolute-names", "-e", "hex", "-m", `^${OPAQUE_XATTR.replaceAll(".", "\\.")}$`, "-d", "--", root],
    signal,
    "latin1",
  );
  const dirs = new Set<string>();
  let current: string | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("# file: ")) {
      current = unescapeGetfattrName(line.slice("# file: ".length));
    } else if (current !== undefined && line === `${OPAQUE_XATTR}=0x79`) {
      // Only "y" means opaque; newer kernels also write "x" on directories that merely hold xwhiteouts.
      if (current === root) dirs.add("");
      else if (current.startsWith(`${root}/`)) dirs.add(current.slice(root.length + 1));
    }
  }
  return dirs;
}

/** getfattr prints names as raw bytes with control characters and "\" as \ooo octal escapes. */
function unescapeGetfattrName(escaped: string): string {
  const bytes = escaped.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** Byte order of UTF-8 names, so that sorting does not depend on the locale or on UTF-16 quirks. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// Linux's dev_t layout: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31.
function devMajor(rdev: number): number {
  const high = Math.floor(rdev / 2 ** 32);
  return ((rdev >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0);
}

function devMinor(rdev: number): number {
  const low = rdev >>> 0;
  return (low & 0xff) | ((low >>> 12) & 0xfff00);
}
