/**
 * Mirrors of client directories, so that sending an unchanged tree again is
 * cheap. Per (client, path, filters) the engine keeps a plain copy of the
 * files and an index of what it last saw (size, mtime, mode, digest). A sync
 * lists the client's tree, asks only for files whose size, mtime or mode
 * changed, and turns the result into a snapshot named by its content digest.
 *
 * Files in a mirror are never changed in place — a changed file is written
 * beside it and renamed over it — so snapshots can hardlink them safely.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import tar from "tar-stream";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import { splitPath } from "../fsutil/in-root.js";
import type { ClientHost } from "../http/client-host.js";
import type { HostEntry, StatTreeParams } from "../http/session-protocol.js";
import { type Digest, digestHex, sha256 } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { listEntries, mtimeMs, removeTrash } from "../util/disk-usage.js";
import { KeyedLock } from "../util/keyed-lock.js";

/** Entries made between two turns of the event loop when snapshotting a mirror. */
const YIELD_EVERY = 512;

interface IndexEntry extends HostEntry {
  /** Content digest of a regular file. */
  digest?: string;
}

export interface SyncResult {
  /** Committed snapshot holding the tree (a single file sits at its base name). */
  snapshot: string;
  digest: Digest;
  kind: "dir" | "file";
  /** Name of the file, when `kind` is "file". */
  name?: string;
  transferred: { files: number; bytes: number };
}

export class HostMirrors {
  readonly #locks = new KeyedLock();

  constructor(
    private readonly root: string,
    private readonly snapshots: OverlaySnapshotter,
    /** Told the listing (path, type, mode, digest or link target) of each new snapshot: `cache explain` names changed files by it. */
    private readonly onListing?: (snapshot: string, entries: ReadonlyArray<readonly [string, string, number, string]>) => void,
  ) {}

  /** The mirrors with their size and last sync, for the collector; one syncing now is in use. */
  async cacheEntries(): Promise<Array<{ id: string; dir: string; lastUsed: number; inUse: boolean }>> {
    await removeTrash(this.root);
    const entries = await listEntries(this.root, (dir) => mtimeMs(path.join(dir, "index.json")));
    return entries.filter((e) => !e.id.startsWith(".")).map((e) => ({ ...e, inUse: this.#locks.busy(e.id) }));
  }

  /**
   * Remove a mirror unless it is syncing (the next sync of it sends every
   * file again). Snapshots made from it keep their files: they are hardlinks.
   */
  async removeCacheEntry(id: string): Promise<boolean> {
    if (this.#locks.busy(id) || id.includes("/") || id.startsWith(".")) return false;
    const trash = path.join(this.root, `.trash-${id}-${randomBytes(4).toString("hex")}`);
    try {
      renameSync(path.join(this.root, id), trash);
    } catch {
      return false;
    }
    await fs.rm(trash, { recursive: true, force: true });
    return true;
  }

  /** Bring the mirror of `params` on `clientKey`'s machine up to date and snapshot it. */
  sync(host: ClientHost, clientKey: string, params: StatTreeParams, signal?: AbortSignal): Promise<SyncResult> {
    const key = digestHex(sha256(JSON.stringify([clientKey, params])));
    // One sync per mirror at a time; different mirrors run in parallel.
    return this.#locks.run(key, () => this.#sync(key, host, params, signal));
  }

  async #sync(key: string, host: ClientHost, params: StatTreeParams, signal?: AbortSignal): Promise<SyncResult> {
    const dir = path.join(this.root, key);
    const tree = path.join(dir, "tree");
    await fs.mkdir(tree, { recursive: true });
    const listing = await host.statTree(params, signal);
    const old = await readIndex(dir);
    const next = new Map<string, IndexEntry>();
    const wanted: string[] = [];
    for (const e of listing.entries) {
      checkRelative(e.path);
      const prev = old.get(e.path);
      if (e.type === "file") {
        if (prev?.type === "file" && prev.size === e.size && prev.mtimeNs === e.mtimeNs && prev.mode === e.mode && prev.digest) {
          next.set(e.path, { ...e, digest: prev.digest });
        } else {
          wanted.push(e.path);
          next.set(e.path, { ...e });
        }
      } else next.set(e.path, e);
    }

    // Remove what is gone or changed type, deepest first.
    for (const [p, prev] of [...old].sort(([a], [b]) => b.localeCompare(a))) {
      const now = next.get(p);
      if (!now || now.type !== prev.type || (now.type === "symlink" && now.target !== prev.target)) {
        await fs.rm(path.join(tree, p), { recursive: true, force: true });
      }
    }
    // Directories and links first, so that files have somewhere to go.
    for (const e of listing.entries) {
      const at = path.join(tree, e.path);
      if (e.type === "dir") mkdirSync(at, { recursive: true });
      else if (e.type === "symlink" && !(old.get(e.path)?.type === "symlink" && old.get(e.path)?.target === e.target)) {
        await fs.mkdir(path.dirname(at), { recursive: true });
        await fs.rm(at, { force: true });
        await fs.symlink(e.target ?? "", at);
      }
    }

    let bytes = 0;
    if (wanted.length > 0) {
      const fileRoot = listing.kind === "file" ? path.dirname(listing.root) : listing.root;
      const { tar: stream, done } = await host.readFiles({ root: fileRoot, files: wanted }, signal);
      try {
        bytes = await receiveFiles(stream, tree, next);
        done();
      } catch (err) {
        done(err as Error);
        throw err;
      }
      for (const p of wanted) if (!next.get(p)?.digest) throw new FailedPreconditionError(`the client did not send "${p}"`);
    }
    await writeIndex(dir, next);

    const entries = [...next.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const rows = entries.map((e) => [e.path, e.type, e.mode, e.digest ?? e.target ?? ""] as const);
    const digest = sha256(JSON.stringify(rows));
    const name = `host/${digestHex(digest)}`;
    if (!this.snapshots.get(name)) {
      await this.#snapshot(name, tree, entries);
      this.onListing?.(name, rows);
    }
    return {
      snapshot: name,
      digest,
      kind: listing.kind,
      ...(listing.kind === "file" && entries[0] ? { name: entries[0].path } : {}),
      transferred: { files: wanted.length, bytes },
    };
  }

  /** A snapshot of the mirror: directories made, files hardlinked, links copied. */
  async #snapshot(name: string, tree: string, entries: IndexEntry[]): Promise<void> {
    const active = await this.snapshots.prepare(undefined);
    try {
      const dirs: IndexEntry[] = [];
      // Synchronous calls (see receiveFiles), with a turn for the event loop now and then.
      for (const [i, e] of entries.entries()) {
        if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
        const at = path.join(active.upperDir, e.path);
        if (e.type === "dir") {
          mkdirSync(at, { recursive: true });
          dirs.push(e);
        } else if (e.type === "symlink") symlinkSync(e.target ?? "", at);
        else linkSync(path.join(tree, e.path), at);
      }
      for (const e of dirs.reverse()) {
        const at = path.join(active.upperDir, e.path);
        chmodSync(at, e.mode);
        const t = new Date(Number(BigInt(e.mtimeNs) / 1_000_000n));
        utimesSync(at, t, t);
      }
      await this.snapshots.commit(active, name);
    } catch (err) {
      await this.snapshots.abort(active);
      throw err;
    }
  }
}

function checkRelative(p: string): void {
  const parts = p.split("/");
  if (p === "" || path.isAbsolute(p) || parts.some((c) => c === ".." || c === "." || c === "")) {
    throw new InvalidArgumentError(`the client listed an invalid path ${JSON.stringify(p)}`);
  }
}

/** Write each file of a tar stream beside its place, hash it, then rename it into place. */
async function receiveFiles(stream: NodeJS.ReadableStream, tree: string, index: Map<string, IndexEntry>): Promise<number> {
  const extract = tar.extract();
  let bytes = 0;
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, body, next) => {
      (async () => {
        const rel = splitPath(header.name).join("/");
        const entry = index.get(rel);
        if (entry?.type !== "file" || header.type !== "file")
          throw new InvalidArgumentError(`the client sent an unexpected entry ${JSON.stringify(header.name)}`);
        const at = path.join(tree, rel);
        const tmp = `${at}.tanto-${randomBytes(4).toString("hex")}`;
        const hash = createHash("sha256");
        // One short synchronous syscall each (open, write, fchmod, futimes, close, rename):
        // a round trip through the thread pool per call cost more than the calls for small files.
        const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, entry.mode & 0o7777);
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            hash.update(chunk);
            bytes += chunk.length;
            for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
          }
          fchmodSync(fd, entry.mode);
          const t = new Date(Number(BigInt(entry.mtimeNs) / 1_000_000n));
          futimesSync(fd, t, t);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, at);
        entry.digest = `sha256:${hash.digest("hex")}`;
      })().then(
        () => next(),
        (err: Error) => extract.destroy(err),
      );
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  // pipe() does not carry a source's failure (the client gone mid-upload): the extract must hear of it.
  stream.on("error", (err: Error) => extract.destroy(err));
  (stream as NodeJS.ReadableStream).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return bytes;
}

async function readIndex(dir: string): Promise<Map<string, IndexEntry>> {
  try {
    const entries = JSON.parse(await fs.readFile(path.join(dir, "index.json"), "utf8")) as IndexEntry[];
    return new Map(entries.map((e) => [e.path, e]));
  } catch {
    return new Map();
  }
}

async function writeIndex(dir: string, index: Map<string, IndexEntry>): Promise<void> {
  const tmp = path.join(dir, `index.json.${randomBytes(4).toString("hex")}`);
  await fs.writeFile(tmp, JSON.stringify([...index.values()]));
  await fs.rename(tmp, path.join(dir, "index.json"));
}
