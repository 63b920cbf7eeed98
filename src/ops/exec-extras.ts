/**
 * Pieces of an exec that read the filesystems it runs on: the file a
 * command's stdin is redirected from, and the first contents and owner of a
 * new cache volume (`cacheVolume(source:, owner:)`, `withMountedCache(source:, owner:)`).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { resolveUser } from "../executor/user.js";
import { copyPath } from "../fsutil/copy.js";
import { mkdirInRoot, resolveInRoot } from "../fsutil/in-root.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { withSnapshotView } from "../snapshots/view.js";
import type { Result } from "../solver/types.js";
import type { VolumeSeed } from "./cache-volumes.js";

/** The contents of `file` in the container's filesystem, for `redirectStdin`. */
export async function readInRoot(rootfs: string, file: string): Promise<Buffer> {
  const host = await resolveInRoot(rootfs, file, { followLast: true });
  try {
    return await fs.readFile(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new NotFoundError(`redirectStdin: open ${file}: no such file or directory`);
    if (code === "EISDIR") throw new FailedPreconditionError(`redirectStdin: read ${file}: is a directory`);
    throw err;
  }
}

/** Write a redirected stream's output to `file` in the container's filesystem. */
export async function writeInRoot(rootfs: string, file: string, data: string): Promise<void> {
  await mkdirInRoot(rootfs, path.posix.dirname(file));
  await fs.writeFile(await resolveInRoot(rootfs, file), data);
}

/**
 * Where a container path lies on this machine while the exec's mounts are
 * up: in the source of the innermost bind mount holding it, else in the
 * rootfs. Redirects of stdin, stdout and stderr go through mounts, as the
 * command's own reads and writes do.
 */
export function locateInMounts(
  rootfs: string,
  mounts: ReadonlyArray<{ destination: string; type: string; source: string; options?: string[] }>,
  file: string,
): { root: string; path: string; readOnly: boolean } {
  let best: (typeof mounts)[number] | undefined;
  for (const m of mounts) {
    if (m.type !== "bind") continue;
    const dest = m.destination.replace(/\/+$/, "");
    if (file !== dest && !file.startsWith(`${dest}/`)) continue;
    if (!best || dest.length > best.destination.replace(/\/+$/, "").length) best = m;
  }
  if (!best) return { root: rootfs, path: file, readOnly: false };
  const readOnly = best.options?.includes("ro") ?? false;
  const dest = best.destination.replace(/\/+$/, "");
  // A file mounted at exactly this path: its source is the file.
  if (file === dest) return { root: path.dirname(best.source), path: `/${path.basename(best.source)}`, readOnly };
  return { root: best.source, path: file.slice(dest.length), readOnly };
}

/** What a cache mount of an exec asks a new volume to start with. */
export interface CacheSeedSpec {
  owner?: string;
  /** A directory among the exec's mount sources (-1: the empty directory) and the path inside it. */
  seed?: { input: number; path: string };
}

/**
 * The seed of a new volume, or undefined when the mount asks for none. The
 * seed's id names the source and owner, so a volume seeded from another
 * directory is another volume (as BuildKit keys cache mounts with a base).
 */
/** A volume seed's id: what it copies (a snapshot's path) and the owner it sets; volumes of one key and seed are one. */
export function seedId(snapshotName: string | undefined, path: string | undefined, owner: string | undefined): string {
  return JSON.stringify([snapshotName ?? null, path ?? null, owner ?? null]);
}

export function cacheSeed(
  m: CacheSeedSpec,
  sources: readonly Result[],
  deps: { snapshots: OverlaySnapshotter; scratchDir: string },
  rootfs: string,
): VolumeSeed | undefined {
  if (!m.seed && !m.owner) return undefined;
  const snapshotName = m.seed && m.seed.input >= 0 ? sources[m.seed.input]?.snapshot : undefined;
  return {
    id: seedId(snapshotName, m.seed?.path, m.owner),
    fill: async (dir) => {
      const owner = m.owner ? await resolveOwner(m.owner, rootfs) : undefined;
      if (m.seed && snapshotName !== undefined) {
        const snapshot = deps.snapshots.get(snapshotName);
        const from = m.seed.path;
        await withSnapshotView(deps.snapshots, snapshot, deps.scratchDir, (src) =>
          copyPath(src, from, dir, "/", owner ? { owner: { uid: owner.uid, gid: owner.gid } } : {}),
        );
      }
      if (owner) await fs.chown(dir, owner.uid, owner.gid);
    },
  };
}

/** `user[:group]` as Dagger reads an owner: without a group, the group named like the user (else the user's own). */
async function resolveOwner(owner: string, rootfs: string): Promise<{ uid: number; gid: number }> {
  if (owner.includes(":")) return resolveUser(owner, rootfs);
  return resolveUser(`${owner}:${owner}`, rootfs).catch(() => resolveUser(owner, rootfs));
}

/** redirectStdin: the file's contents, read through the exec's mounts. */
export function readRedirect(
  rootfs: string,
  mounts: ReadonlyArray<{ destination: string; type: string; source: string; options?: string[] }>,
  file: string,
): Promise<Buffer> {
  const at = locateInMounts(rootfs, mounts, file);
  return readInRoot(at.root, at.path);
}

/** redirectStdout/Stderr: the output written through the exec's mounts. */
export async function writeRedirect(
  rootfs: string,
  mounts: ReadonlyArray<{ destination: string; type: string; source: string; options?: string[] }>,
  file: string,
  data: string,
): Promise<void> {
  const at = locateInMounts(rootfs, mounts, file);
  if (at.readOnly) throw new FailedPreconditionError(`cannot redirect output to ${file}: it is on a read-only mount`);
  await writeInRoot(at.root, at.path, data);
}

/**
 * Bound services an exec watches while its command runs: one that ends
 * meanwhile fails the command (its process is stopped through `signal`), as
 * in Dagger. Ends after the command (services released) are not its concern.
 */
export class ServiceWatch {
  readonly #abort = new AbortController();
  #error: Error | undefined;
  #running = true;

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  watch(alias: string, ended: Promise<Error> | undefined): void {
    void ended?.then((e) => {
      if (!this.#running || this.#error) return;
      this.#error = new FailedPreconditionError(`service ${alias} ended while the command ran: ${e.message}`);
      this.#abort.abort(this.#error);
    });
  }

  /** Handlers for the command's end: its result, or the service's end in place of the command's failure. */
  settle<T>(): [(r: T) => T, (err: unknown) => never] {
    return [
      (r) => {
        this.#running = false;
        if (this.#error) throw this.#error;
        return r;
      },
      (err) => {
        this.#running = false;
        throw this.#error ?? err;
      },
    ];
  }
}
