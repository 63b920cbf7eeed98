/**
 * Snapshots are the filesystems containers run on, stacked like image layers.
 *
 * Lifecycle (containerd's): `prepare(parent)` gives an *active* snapshot, a
 * writable layer on top of a committed parent; it is mounted, changed (an
 * unpacked layer, a command's writes), then `commit(active, name)` turns it
 * into a *committed* snapshot: immutable, named, usable as a parent. Active
 * snapshots are never parents, and committed ones are never written again.
 *
 *   const active = await snapshots.prepare(parent);
 *   await mountAt(snapshots.mounts(active), dir); ...; await unmount(dir);
 *   const committed = await snapshots.commit(active, "exec/" + key);
 */
import type { Mount } from "../mount/types.js";

export interface CommittedSnapshot {
  readonly state: "committed";
  readonly id: number;
  readonly name: string;
  /** This snapshot and its ancestors, top first. */
  readonly chain: readonly number[];
}

export interface ActiveSnapshot {
  readonly state: "active";
  readonly id: number;
  readonly parent: CommittedSnapshot | undefined;
  /** The writable directory; for overlay it is the upperdir, i.e. the diff. */
  readonly upperDir: string;
}

export interface Snapshotter {
  prepare(parent: CommittedSnapshot | undefined): Promise<ActiveSnapshot>;
  /** With `unmounted`, the active snapshot is still mounted (its writer done) until that settles. */
  commit(active: ActiveSnapshot, name: string, opts?: { unmounted?: Promise<unknown> }): Promise<CommittedSnapshot>;
  /** Drop an active snapshot without committing it. */
  abort(active: ActiveSnapshot): Promise<void>;
  get(name: string): CommittedSnapshot | undefined;
  /** How to mount an active snapshot read-write. */
  mounts(active: ActiveSnapshot): Mount;
  /** How to mount a committed snapshot read-only. */
  viewMounts(snapshot: CommittedSnapshot): Mount;
  /** Mark a snapshot as used now (for least-recently-used collection). */
  touch(snapshot: CommittedSnapshot): void;
  remove(name: string): Promise<void>;
}
