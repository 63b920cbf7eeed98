/**
 * Disk usage and garbage collection of the cache.
 *
 * What can go: committed snapshots that have no children and no lease,
 * least recently used first (removing one may make its parent a leaf, which
 * then queues by its own last use); with `all`, also idle cache volumes and
 * content blobs. A collection frees what it was asked to and stops: it never
 * empties the cache because the disk is full of something else.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { ContentStore } from "../content/types.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { metrics } from "../telemetry/metrics.js";
import type { Leases } from "./leases.js";

export type UsageKind = "images" | "exec" | "files" | "host" | "other";

export interface UsageReport {
  /** Bytes by kind of snapshot; "volumes" and "content" are cache volumes and blobs. */
  byKind: Record<UsageKind | "volumes" | "content", number>;
  total: number;
  /** What a prune with `all` could free now (not leased, not in use). */
  reclaimable: number;
}

export interface PruneResult {
  removedSnapshots: number;
  freedBytes: number;
  usageAfter: number;
}

export function kindOf(name: string): UsageKind {
  if (name.startsWith("layer/")) return "images";
  if (name.startsWith("exec/")) return "exec";
  if (name.startsWith("file/")) return "files";
  if (name.startsWith("host/")) return "host";
  return "other";
}

export class Collector {
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly snapshots: OverlaySnapshotter,
    private readonly leases: Leases,
    private readonly content: ContentStore,
    private readonly volumesDir: string,
    /** Whether a cache volume directory is in use by a running exec. */
    private readonly volumeInUse: (dirName: string) => boolean,
    /** Blobs that remaining snapshots' layers are recorded in: never deleted while referenced. */
    private readonly referencedBlobs: () => Set<string> = () => new Set(),
  ) {}

  /** Sizes of snapshots measured once (they never change after commit). */
  async #measure(): Promise<ReturnType<OverlaySnapshotter["list"]>> {
    const list = this.snapshots.list();
    for (const s of list) {
      if (s.size > 0) continue;
      s.size = Math.max(1, await diskUsage(path.join(this.snapshots.dirOf(s.id), "fs")));
      this.snapshots.setSize(s.id, s.size);
    }
    return list;
  }

  async usage(): Promise<UsageReport> {
    const list = await this.#measure();
    const byKind: UsageReport["byKind"] = { images: 0, exec: 0, files: 0, host: 0, other: 0, volumes: 0, content: 0 };
    const parents = new Set(list.map((s) => s.parent));
    let reclaimable = 0;
    for (const s of list) {
      byKind[kindOf(s.name)] += s.size;
      if (!this.leases.isLeased(s.name) && !(parents.has(s.id) && list.some((c) => c.parent === s.id && this.leases.isLeased(c.name)))) reclaimable += s.size;
    }
    byKind.volumes = await diskUsage(this.volumesDir);
    for await (const blob of this.content.list()) byKind.content += blob.size;
    reclaimable += byKind.volumes + byKind.content;
    const total = Object.values(byKind).reduce((a, b) => a + b, 0);
    return { byKind, total, reclaimable };
  }

  /** Free space until usage is at most `keepBytes` (everything removable with `all`). */
  prune(opts: { keepBytes?: number; all?: boolean }): Promise<PruneResult> {
    // One collection at a time.
    const run = this.#running
      .catch(() => undefined)
      .then(() => this.#prune(opts))
      .then((r) => {
        metrics.gcRuns.inc();
        metrics.gcFreed.inc({}, r.freedBytes);
        return r;
      });
    this.#running = run;
    return run;
  }

  async #prune(opts: { keepBytes?: number; all?: boolean }): Promise<PruneResult> {
    const report = await this.usage();
    const target = opts.all ? 0 : (opts.keepBytes ?? Infinity);
    let usage = report.total;
    let freed = 0;
    let removed = 0;
    if (usage <= target) return { removedSnapshots: 0, freedBytes: 0, usageAfter: usage };

    const list = this.snapshots.list();
    const children = new Map<number, number>();
    for (const s of list) if (s.parent !== null) children.set(s.parent, (children.get(s.parent) ?? 0) + 1);
    const byId = new Map(list.map((s) => [s.id, s]));
    const trash: string[] = [];
    // Leaves, least recently used first; parents join as they become leaves.
    const queue = list.filter((s) => !children.has(s.id)).sort((a, b) => a.lastUsed - b.lastUsed);
    while (usage > target && queue.length > 0) {
      const s = queue.shift()!;
      if (this.leases.isLeased(s.name)) continue;
      const dir = this.snapshots.detach(s.name);
      if (!dir) continue;
      trash.push(dir);
      usage -= s.size;
      freed += s.size;
      removed++;
      if (s.parent !== null) {
        const left = (children.get(s.parent) ?? 1) - 1;
        children.set(s.parent, left);
        const parent = byId.get(s.parent);
        if (left === 0 && parent) {
          const at = queue.findIndex((q) => q.lastUsed > parent.lastUsed);
          queue.splice(at < 0 ? queue.length : at, 0, parent);
        }
      }
    }
    for (const dir of trash) await fs.rm(dir, { recursive: true, force: true });

    if (opts.all) {
      for (const name of await fs.readdir(this.volumesDir).catch(() => [] as string[])) {
        if (this.volumeInUse(name)) continue;
        const size = await diskUsage(path.join(this.volumesDir, name));
        await fs.rm(path.join(this.volumesDir, name), { recursive: true, force: true });
        freed += size;
        usage -= size;
      }
      // Snapshots removed above took their blob records with them; what is still recorded stays.
      const referenced = this.referencedBlobs();
      for await (const blob of this.content.list()) {
        if (referenced.has(blob.digest)) continue;
        await this.content.delete(blob.digest);
        freed += blob.size;
        usage -= blob.size;
      }
    }
    return { removedSnapshots: removed, freedBytes: freed, usageAfter: Math.max(0, usage) };
  }
}

/** Bytes allocated on disk below `p` (like `du -s`, without following links). */
export async function diskUsage(p: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      const st = await fs.lstat(full).catch(() => undefined);
      if (!st) continue;
      total += st.blocks * 512;
      if (e.isDirectory()) await walk(full);
    }
  };
  await walk(p);
  return total;
}
