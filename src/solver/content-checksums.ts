/**
 * Content checksums of committed snapshots, for content-based cache keys (as
 * BuildKit's content checksums): a sub-tree's names, types, modes, owners,
 * link targets and file contents, walked in sorted order; times are left out.
 * Snapshots never change once committed, so a checksum is computed once per
 * (snapshot, path) and kept in the database beside the snapshot (it goes with
 * it) and in a small memory cache.
 *
 *   const sum = await checksums.checksum("exec/…", "/src");   // "sha256:…"
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { resolveInRoot } from "../fsutil/in-root.js";
import type { Database } from "../metadata/database.js";
import { type Digest, digestOf } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { withSnapshotView } from "../snapshots/view.js";

export interface ContentChecksums {
  /** The checksum of `p` inside snapshot `name` (undefined: the empty filesystem). */
  checksum(name: string | undefined, p: string): Promise<Digest>;
}

const MEMORY_ENTRIES = 4096;
/** Files up to this size are read whole; bigger ones are streamed. */
const READ_WHOLE = 1 << 20;

export class SnapshotChecksums implements ContentChecksums {
  readonly #memory = new Map<string, Digest>();
  readonly #get;
  readonly #put;

  constructor(
    private readonly snapshots: OverlaySnapshotter,
    db: Database,
    private readonly scratchDir: string,
  ) {
    this.#get = db.prepare<[number, string], { checksum: string }>("SELECT checksum FROM content_checksums WHERE snapshot = ? AND path = ?");
    this.#put = db.prepare("INSERT OR IGNORE INTO content_checksums (snapshot, path, checksum) VALUES (?, ?, ?)");
  }

  async checksum(name: string | undefined, p: string): Promise<Digest> {
    const snapshot = name === undefined ? undefined : this.snapshots.get(name);
    const rel = path.posix.normalize(`/${p}`);
    const memoKey = `${snapshot?.id ?? ""}\0${rel}`;
    const known = this.#memory.get(memoKey);
    if (known) return known;
    const stored = snapshot ? this.#get.get(snapshot.id, rel) : undefined;
    const sum =
      (stored?.checksum as Digest | undefined) ?? (await withSnapshotView(this.snapshots, snapshot, this.scratchDir, (root) => treeChecksum(root, rel)));
    // The snapshot may have been collected meanwhile: then there is nothing to keep it with.
    if (snapshot && !stored && this.snapshots.get(snapshot.name)) this.#put.run(snapshot.id, rel, sum);
    if (this.#memory.size >= MEMORY_ENTRIES) this.#memory.delete(this.#memory.keys().next().value as string);
    this.#memory.set(memoKey, sum);
    return sum;
  }
}

/** The checksum of the file or tree at `p` under `root` (a missing path has one too). */
export async function treeChecksum(root: string, p: string): Promise<Digest> {
  let base: string;
  try {
    base = await resolveInRoot(root, p, { followLast: true });
    await fs.lstat(base);
  } catch (err) {
    if (["ENOENT", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "")) return digestOf({ missing: p });
    throw err;
  }
  const hash = createHash("sha256");
  await entry(hash, base, ".");
  return `sha256:${hash.digest("hex")}` as Digest;
}

async function entry(hash: Hash, full: string, rel: string): Promise<void> {
  const st = await fs.lstat(full);
  hash.update(`${rel}\0${st.mode.toString(8)}\0${st.uid}:${st.gid}\0`);
  if (st.isDirectory()) {
    for (const name of (await fs.readdir(full)).sort()) await entry(hash, path.join(full, name), `${rel}/${name}`);
  } else if (st.isSymbolicLink()) {
    hash.update(await fs.readlink(full));
  } else if (st.isFile()) {
    hash.update(`${st.size}\0`);
    if (st.size <= READ_WHOLE) hash.update(await fs.readFile(full));
    else for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    hash.update(String(st.rdev));
  }
  hash.update("\0");
}
