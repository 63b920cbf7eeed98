/**
 * Overlayfs snapshots on the local disk: `<root>/<id>/fs` holds a layer (in
 * overlay's own whiteout format), `<root>/<id>/work` is overlay's workdir.
 * Metadata lives in the engine database (`snapshots` table); directories on
 * disk that the database does not know are leftovers of a crash and removed
 * at open.
 *
 * Lower directories are passed relative to `<root>` (ids are short), which
 * keeps deep stacks under the kernel's 4096-byte mount option limit.
 *
 * Ids come from a sequence that never goes back (`snapshot_ids`), so a
 * directory still being removed can never be taken for a new snapshot's; and
 * a directory goes (or is moved aside) before its row is released.
 *
 * A snapshot may be committed while its overlay is still mounted (an exec
 * whose container has exited: nothing writes to the upperdir any more), with
 * a promise that settles once it is unmounted. Until then it is *settling*:
 * `prepare` on it and `whenSettled` wait, so no overlay ever stacks on an
 * upperdir another mount still holds; the workdir goes after the unmount.
 * A crash in between leaves a mount under the run directory (removed at the
 * next start) and a stale `work` directory beside the committed `fs`, which
 * nothing reads.
 */
import { mkdirSync, renameSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import type { Database } from "../metadata/database.js";
import type { Mount } from "../mount/types.js";
import type { ActiveSnapshot, CommittedSnapshot, Snapshotter } from "./types.js";

/** overlayfs refuses more lower layers than this. */
export const MAX_LOWER_LAYERS = 500;

interface Row {
  id: number;
  name: string;
  parent: number | null;
  state: "active" | "committed";
}

export class OverlaySnapshotter implements Snapshotter {
  readonly root: string;
  readonly #db: Database;
  readonly #committed = new Map<string, CommittedSnapshot>();
  readonly #byId = new Map<number, CommittedSnapshot>();
  /** Snapshots committed while still mounted, by id: settles once unmounted and cleaned. */
  readonly #settling = new Map<number, Promise<void>>();

  private constructor(root: string, db: Database) {
    this.root = root;
    this.#db = db;
  }

  /** Open the snapshotter, discarding active snapshots and stray directories. */
  static async open(root: string, db: Database): Promise<OverlaySnapshotter> {
    await fs.mkdir(root, { recursive: true });
    const s = new OverlaySnapshotter(root, db);
    const active = db.prepare("SELECT id FROM snapshots WHERE state = 'active'").all() as { id: number }[];
    db.prepare("DELETE FROM snapshots WHERE state = 'active'").run();
    const rows = db.prepare("SELECT id, name, parent, state FROM snapshots ORDER BY id").all() as Row[];
    for (const row of rows) s.#remember(row);
    const known = new Set(rows.map((r) => String(r.id)));
    // Directories of active snapshots, of ones a crash caught before their row, and moved aside for removal.
    const entries = await fs.readdir(root);
    for (const entry of entries) {
      if (known.has(entry)) continue;
      // A removal a crash cut short between moving the directory aside and deleting the row
      // (detach): the row stands, so its directory goes back.
      const trashed = /^\.trash-(\d+)$/.exec(entry)?.[1];
      if (trashed !== undefined && known.has(trashed) && !entries.includes(trashed)) {
        await fs.rename(path.join(root, entry), path.join(root, trashed));
        continue;
      }
      await fs.rm(path.join(root, entry), { recursive: true, force: true });
      s.#strayDirs++;
    }
    s.#activeRows = active.length;
    // A database copied in from elsewhere may be ahead of the sequence: never hand out an id in use.
    db.prepare("UPDATE snapshot_ids SET next = MAX(next, (SELECT COALESCE(MAX(id), 0) + 1 FROM snapshots))").run();
    return s;
  }

  #strayDirs = 0;
  #activeRows = 0;

  /** What open() found left by a crash and removed: directories no committed row names, and rows of active snapshots. */
  get removedAtOpen(): { strayDirs: number; activeRows: number } {
    return { strayDirs: this.#strayDirs, activeRows: this.#activeRows };
  }

  #remember(row: Row): CommittedSnapshot {
    const parent = row.parent === null ? undefined : this.#byId.get(row.parent);
    const snap: CommittedSnapshot = {
      state: "committed",
      id: row.id,
      name: row.name,
      chain: [row.id, ...(parent?.chain ?? [])],
    };
    this.#committed.set(row.name, snap);
    this.#byId.set(row.id, snap);
    return snap;
  }

  async prepare(parent: CommittedSnapshot | undefined): Promise<ActiveSnapshot> {
    if (parent && parent.chain.length >= MAX_LOWER_LAYERS) {
      throw new FailedPreconditionError(
        `snapshot "${parent.name}" has ${parent.chain.length} layers; overlayfs allows at most ${MAX_LOWER_LAYERS - 1} below a writable layer`,
      );
    }
    if (parent) await this.whenSettled(parent);
    const now = Date.now();
    const id = this.#db.transaction(() => {
      const next = (this.#db.prepare("UPDATE snapshot_ids SET next = next + 1 RETURNING next - 1 AS id").get() as { id: number }).id;
      this.#db
        .prepare("INSERT INTO snapshots (id, name, parent, state, created, last_used) VALUES (?, ?, ?, 'active', ?, ?)")
        .run(next, `active/${next}`, parent?.id ?? null, now, now);
      return next;
    })();
    const dir = path.join(this.root, String(id));
    try {
      // Not recursive: the id is new, so its directory must be too. Synchronous: three short
      // system calls on every exec's way to its container, cheaper than thread-pool round trips.
      mkdirSync(dir);
      mkdirSync(path.join(dir, "fs"));
      if (parent) mkdirSync(path.join(dir, "work"));
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true });
      this.#db.prepare("DELETE FROM snapshots WHERE id = ? AND state = 'active'").run(id);
      throw err;
    }
    return { state: "active", id, parent, upperDir: path.join(dir, "fs") };
  }

  /**
   * Make `active` an immutable snapshot named `name`. With `unmounted`, its
   * overlay is still mounted (its writer is done): the snapshot is settling
   * until that promise settles, and its workdir is removed afterwards.
   */
  async commit(active: ActiveSnapshot, name: string, opts: { unmounted?: Promise<unknown> } = {}): Promise<CommittedSnapshot> {
    if (name.startsWith("active/")) throw new InvalidArgumentError(`snapshot name "${name}" is reserved`);
    const { unmounted } = opts;
    const existing = this.#committed.get(name);
    if (existing) {
      // Someone committed the same content first; keep theirs.
      if (unmounted) this.#settle(active.id, unmounted, () => this.abort(active));
      else await this.abort(active);
      return existing;
    }
    const work = path.join(this.root, String(active.id), "work");
    if (!unmounted) {
      // overlay's workdir is scratch space only while mounted.
      await fs.rm(work, { recursive: true, force: true });
      // The same content may have been committed while we waited: the name is taken, keep theirs.
      const first = this.#committed.get(name);
      if (first) {
        await this.abort(active);
        return first;
      }
    }
    this.#db.prepare("UPDATE snapshots SET name = ?, state = 'committed', last_used = ? WHERE id = ?").run(name, Date.now(), active.id);
    const snap = this.#remember({ id: active.id, name, parent: active.parent?.id ?? null, state: "committed" });
    if (unmounted) this.#settle(active.id, unmounted, () => fs.rm(work, { recursive: true, force: true }));
    return snap;
  }

  #settle(id: number, unmounted: Promise<unknown>, after: () => Promise<unknown>): void {
    const done = unmounted
      .catch(() => undefined)
      .then(after)
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (this.#settling.get(id) === done) this.#settling.delete(id);
      });
    this.#settling.set(id, done);
  }

  /** Resolves once no layer of `snapshot` is still mounted from its commit (at once, almost always). */
  async whenSettled(snapshot: CommittedSnapshot): Promise<void> {
    if (this.#settling.size === 0) return;
    for (const id of snapshot.chain) await this.#settling.get(id);
  }

  /** Resolves once every snapshot committed while mounted has been unmounted and cleaned (engine stop). */
  async whenAllSettled(): Promise<void> {
    while (this.#settling.size > 0) await Promise.all(this.#settling.values());
  }

  async abort(active: ActiveSnapshot): Promise<void> {
    // Directory first, row after: a crash in between leaves an active row, discarded at open.
    await fs.rm(path.join(this.root, String(active.id)), { recursive: true, force: true });
    this.#db.prepare("DELETE FROM snapshots WHERE id = ? AND state = 'active'").run(active.id);
  }

  get(name: string): CommittedSnapshot | undefined {
    return this.#committed.get(name);
  }

  mounts(active: ActiveSnapshot): Mount {
    if (!active.parent) return { type: "bind", source: active.upperDir, options: ["rbind", "rw"] };
    return {
      type: "overlay",
      source: "overlay",
      cwd: this.root,
      options: [
        "index=off",
        // Unmounting a non-volatile overlay syncs the whole upper filesystem
        // (tens of ms on a busy disk, per exec). A killed engine loses nothing
        // by skipping it (the page cache survives); only a power loss could
        // cost the newest layers, as with any unsynced write.
        "volatile",
        `lowerdir=${lowerDirs(active.parent.chain)}`,
        `upperdir=${active.id}/fs`,
        `workdir=${active.id}/work`,
      ],
    };
  }

  viewMounts(snapshot: CommittedSnapshot): Mount {
    if (snapshot.chain.length === 1) {
      return { type: "bind", source: path.join(this.root, String(snapshot.id), "fs"), options: ["rbind", "ro"] };
    }
    return { type: "overlay", source: "overlay", cwd: this.root, options: ["ro", "index=off", `lowerdir=${lowerDirs(snapshot.chain)}`] };
  }

  /** The directory of a single committed layer (its own diff only). */
  layerDir(snapshot: CommittedSnapshot): string {
    return path.join(this.root, String(snapshot.id), "fs");
  }

  touch(snapshot: CommittedSnapshot): void {
    this.#db.prepare("UPDATE snapshots SET last_used = ? WHERE id = ?").run(Date.now(), snapshot.id);
  }

  /**
   * Remove a committed snapshot that has no children, in one synchronous step
   * (rows and cache records deleted, directory moved aside), so nothing can
   * start using it halfway through. Returns the moved directory, to delete at
   * leisure, or undefined when the snapshot cannot be removed.
   */
  detach(name: string): string | undefined {
    const snap = this.#committed.get(name);
    if (!snap) return undefined;
    if (this.#db.prepare("SELECT 1 FROM snapshots WHERE parent = ? LIMIT 1").get(snap.id)) return undefined;
    // The directory moves aside before the row goes (ids are never reused, so the trash name is free).
    const dir = path.join(this.root, String(snap.id));
    const trash = path.join(this.root, `.trash-${snap.id}`);
    renameSync(dir, trash);
    try {
      this.#db.transaction(() => {
        this.#db.prepare("DELETE FROM cache_records WHERE snapshot = ?").run(snap.id);
        this.#db.prepare("DELETE FROM snapshots WHERE id = ?").run(snap.id);
      })();
    } catch (err) {
      renameSync(trash, dir);
      throw err;
    }
    this.#committed.delete(name);
    this.#byId.delete(snap.id);
    return trash;
  }

  async remove(name: string): Promise<void> {
    const snap = this.#committed.get(name);
    if (!snap) return;
    const trash = this.detach(name);
    if (!trash) throw new FailedPreconditionError(`snapshot "${name}" has children and cannot be removed`);
    await fs.rm(trash, { recursive: true, force: true });
  }

  /** Committed snapshots with their parent, size (0 = not measured yet) and last use. */
  list(): Array<{ id: number; name: string; parent: number | null; size: number; lastUsed: number }> {
    return this.#db.prepare("SELECT id, name, parent, size, last_used AS lastUsed FROM snapshots WHERE state = 'committed'").all() as Array<{
      id: number;
      name: string;
      parent: number | null;
      size: number;
      lastUsed: number;
    }>;
  }

  /** Record a measured size (bytes on disk of the snapshot's own layer). */
  setSize(id: number, size: number): void {
    this.#db.prepare("UPDATE snapshots SET size = ? WHERE id = ?").run(size, id);
  }

  dirOf(id: number): string {
    return path.join(this.root, String(id));
  }
}

function lowerDirs(chain: readonly number[]): string {
  return chain.map((id) => `${id}/fs`).join(":");
}
