/**
 * Cache volumes: directories that persist across execs and sessions, named by
 * the client's key. Their contents are not part of any cache key (that is the
 * point of a cache volume). Sharing modes, as in Dagger and BuildKit:
 * SHARED — every user at once; LOCKED — one user at a time, others wait;
 * PRIVATE — a user that finds the volume busy gets a fresh scratch copy.
 */
import { randomBytes } from "node:crypto";
import { renameSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Database } from "../metadata/database.js";
import { digestHex, sha256 } from "../oci/digest.js";
import { listEntries, mtimeMs, removeTrash } from "../util/disk-usage.js";

export type CacheSharingMode = "SHARED" | "PRIVATE" | "LOCKED";

export interface VolumeLease extends AsyncDisposable {
  readonly dir: string;
}

/**
 * What a new volume starts with (a copy of a directory, an owner). `id` names
 * it: a volume is found by its key and its seed's id.
 */
export interface VolumeSeed {
  readonly id: string;
  fill(dir: string): Promise<void>;
}

export class CacheVolumes {
  readonly #root: string;
  readonly #db: Database;
  readonly #users = new Map<string, number>();
  readonly #locks = new Map<string, Promise<void>>();
  readonly #opening = new Map<string, number>();
  /** New volumes being filled from their seed, by directory name: users wait for it. */
  readonly #seeding = new Map<string, Promise<void>>();

  constructor(root: string, db: Database) {
    this.#root = root;
    this.#db = db;
  }

  /** Whether the volume stored in `dirName` is being used (or waited for) now. */
  inUse(dirName: string): boolean {
    return (this.#users.get(dirName) ?? 0) > 0 || this.#locks.has(dirName) || this.#opening.has(dirName);
  }

  /** The volumes with their size and last use, for the collector (scratch copies are in use by nature). */
  async cacheEntries(): Promise<Array<{ id: string; dir: string; lastUsed: number; inUse: boolean }>> {
    const rows = this.#db.prepare("SELECT dir, last_used AS lastUsed FROM cache_volumes").all() as Array<{ dir: string; lastUsed: number }>;
    const lastUse = new Map(rows.map((r) => [r.dir, r.lastUsed]));
    await removeTrash(this.#root);
    const entries = await listEntries(this.#root, async (dir) => lastUse.get(path.basename(dir)) ?? mtimeMs(dir));
    return entries.filter((e) => !e.id.includes(".")).map((e) => ({ ...e, inUse: this.inUse(e.id) }));
  }

  /** Remove a volume unless it is in use: moved aside at once, so a new user starts from an empty one. */
  async removeCacheEntry(dirName: string): Promise<boolean> {
    if (this.inUse(dirName) || dirName.includes("/") || dirName.includes(".")) return false;
    const trash = path.join(this.#root, `.trash-${dirName}-${randomBytes(4).toString("hex")}`);
    try {
      renameSync(path.join(this.#root, dirName), trash);
    } catch {
      return false;
    }
    this.#db.prepare("DELETE FROM cache_volumes WHERE dir = ?").run(dirName);
    await fs.rm(trash, { recursive: true, force: true });
    return true;
  }

  async acquire(key: string, sharing: CacheSharingMode, seed?: VolumeSeed): Promise<VolumeLease> {
    const storeKey = seed ? `${key}\0seed:${seed.id}` : key;
    const name = digestHex(sha256(storeKey));
    const dir = path.join(this.#root, name);
    // In use from the first moment: the collector must not move it aside while it is being opened.
    this.#opening.set(name, (this.#opening.get(name) ?? 0) + 1);
    try {
      const created = (await fs.mkdir(dir, { recursive: true })) !== undefined;
      if (created && seed) {
        const filling = seed.fill(dir).catch(async (err: unknown) => {
          await fs.rm(dir, { recursive: true, force: true });
          throw err;
        });
        this.#seeding.set(name, filling);
        filling.then(
          () => this.#seeding.delete(name),
          () => this.#seeding.delete(name),
        );
      }
      await this.#seeding.get(name);
    } finally {
      const left = (this.#opening.get(name) ?? 1) - 1;
      if (left > 0) this.#opening.set(name, left);
      else this.#opening.delete(name);
    }
    const now = Date.now();
    this.#db
      .prepare("INSERT INTO cache_volumes (key, dir, created, last_used) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET last_used = excluded.last_used")
      .run(storeKey, name, now, now);

    if (sharing === "LOCKED") {
      const previous = this.#locks.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      const chained = previous.then(() => mine);
      this.#locks.set(name, chained);
      await previous;
      return {
        dir,
        [Symbol.asyncDispose]: async () => {
          this.#used(name);
          release();
          if (this.#locks.get(name) === chained) this.#locks.delete(name);
        },
      };
    }
    if (sharing === "PRIVATE" && (this.#users.get(name) ?? 0) > 0) {
      const scratch = await fs.mkdtemp(path.join(this.#root, `${name}.private-`));
      // A private copy starts as a new volume would.
      if (seed)
        await seed.fill(scratch).catch(async (err: unknown) => {
          await fs.rm(scratch, { recursive: true, force: true });
          throw err;
        });
      return { dir: scratch, [Symbol.asyncDispose]: () => fs.rm(scratch, { recursive: true, force: true }) };
    }
    this.#users.set(name, (this.#users.get(name) ?? 0) + 1);
    return {
      dir,
      [Symbol.asyncDispose]: async () => {
        this.#used(name);
        this.#users.set(name, (this.#users.get(name) ?? 1) - 1);
      },
    };
  }

  /** The end of a use is its last use, for the collector's least-recently-used order. */
  #used(dirName: string): void {
    this.#db.prepare("UPDATE cache_volumes SET last_used = ? WHERE dir = ?").run(Date.now(), dirName);
  }
}
