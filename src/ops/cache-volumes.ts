/**
 * Cache volumes: directories that persist across execs and sessions, named by
 * the client's key. Their contents are not part of any cache key (that is the
 * point of a cache volume). Sharing modes, as in Dagger and BuildKit:
 * SHARED — every user at once; LOCKED — one user at a time, others wait;
 * PRIVATE — a user that finds the volume busy gets a fresh scratch copy.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { CancelledError, InvalidArgumentError } from "../errors.js";
import type { Database } from "../metadata/database.js";
import { digestHex, sha256 } from "../oci/digest.js";

export type CacheSharingMode = "SHARED" | "PRIVATE" | "LOCKED";

export interface VolumeLease extends AsyncDisposable {
  readonly dir: string;
}

export class CacheVolumes {
  readonly #root: string;
  readonly #db: Database;
  readonly #users = new Map<string, number>();
  readonly #locks = new Map<string, Promise<void>>();

  constructor(root: string, db: Database) {
    this.#root = root;
    this.#db = db;
  }

  /** Whether the volume stored in `dirName` is being used (or waited for) now. */
  inUse(dirName: string): boolean {
    return (this.#users.get(dirName) ?? 0) > 0 || this.#locks.has(dirName);
  }

  /**
   * Take the volume for one user. A LOCKED wait ends with a CancelledError when
   * `signal` aborts (the session ended, the client hung up); the queue behind
   * it moves on as if it had come and gone.
   */
  async acquire(key: string, sharing: CacheSharingMode, opts: { signal?: AbortSignal } = {}): Promise<VolumeLease> {
    const name = digestHex(sha256(key));
    const dir = path.join(this.#root, name);
    await fs.mkdir(dir, { recursive: true });
    const now = Date.now();
    this.#db
      .prepare("INSERT INTO cache_volumes (key, dir, created, last_used) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET last_used = excluded.last_used")
      .run(key, name, now, now);

    if (sharing === "LOCKED") {
      const previous = this.#locks.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      const chained = previous.then(() => mine);
      this.#locks.set(name, chained);
      const drop = (): void => {
        release();
        void chained.then(() => {
          if (this.#locks.get(name) === chained) this.#locks.delete(name);
        });
      };
      try {
        await waitOrAbort(previous, opts.signal);
      } catch (err) {
        drop();
        throw new CancelledError(`waiting for the LOCKED cache volume "${key}" cancelled`, { cause: err });
      }
      return {
        dir,
        [Symbol.asyncDispose]: async () => {
          release();
          if (this.#locks.get(name) === chained) this.#locks.delete(name);
        },
      };
    }
    if (sharing === "PRIVATE" && (this.#users.get(name) ?? 0) > 0) {
      const scratch = await fs.mkdtemp(path.join(this.#root, `${name}.private-`));
      return { dir: scratch, [Symbol.asyncDispose]: () => fs.rm(scratch, { recursive: true, force: true }) };
    }
    this.#users.set(name, (this.#users.get(name) ?? 0) + 1);
    return {
      dir,
      [Symbol.asyncDispose]: async () => {
        this.#users.set(name, (this.#users.get(name) ?? 1) - 1);
      },
    };
  }
}

/** Wait for `p` unless `signal` aborts first. */
function waitOrAbort(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * One exec mounting the same volume twice where either mount is LOCKED would
 * wait on itself forever: refuse it up front.
 */
export function checkVolumeConflicts(mounts: ReadonlyArray<{ key: string; sharing: CacheSharingMode; target: string }>): void {
  const seen = new Map<string, { sharing: CacheSharingMode; target: string }>();
  for (const m of mounts) {
    const first = seen.get(m.key);
    if (first && (first.sharing === "LOCKED" || m.sharing === "LOCKED")) {
      throw new InvalidArgumentError(
        `cache volume "${m.key}" is mounted twice in one exec (at ${first.target} as ${first.sharing} and at ${m.target} as ${m.sharing}); a LOCKED volume can be mounted once: use SHARED for both, or mount it once`,
      );
    }
    if (!first) seen.set(m.key, { sharing: m.sharing, target: m.target });
  }
}
