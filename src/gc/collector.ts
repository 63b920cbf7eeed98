/**
 * Disk usage and garbage collection of the cache (see types.ts for the kinds).
 *
 * A pass lists every candidate — committed snapshots, content blobs, cache
 * volumes, host mirrors, git cache repositories — with its size and last use,
 * and removes them least recently used first (plan.ts) until usage is within
 * the target: volumes and blobs compete with snapshots by age, so a cache
 * full of volumes is collected from its volumes, not by evicting every
 * result. A snapshot's removal takes the cache records owning it in the same
 * statement; a blob owned by records goes right after those records. So a
 * record never outlives what it points at.
 */
import * as fs from "node:fs/promises";
import type { ContentStore } from "../content/types.js";
import type { Digest } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { metrics } from "../telemetry/metrics.js";
import { diskUsage } from "../util/disk-usage.js";
import type { Leases } from "./leases.js";
import { type Candidate, chooseVictims } from "./plan.js";
import {
  type AreaKind,
  type BlobOwners,
  type CacheArea,
  emptyByKind,
  ownedBlobKind,
  type PruneResult,
  snapshotKindOf,
  type UsageKind,
  type UsageReport,
} from "./types.js";

export type { PruneResult, UsageReport } from "./types.js";

export interface CollectorDeps {
  snapshots: OverlaySnapshotter;
  leases: Leases;
  content: ContentStore;
  /** Blob digest → ids of the snapshots whose layer is recorded in it. */
  layerBlobHolders: () => Map<string, number[]>;
  /** Whether some snapshot's layer is recorded in the blob now. */
  layerBlobReferenced: (digest: string) => boolean;
  records: BlobOwners;
  areas: Partial<Record<AreaKind, CacheArea>>;
  /**
   * Unreferenced blobs younger than this are left alone by a policy pass: an
   * op may be about to record them (a pull before its unpack, an export
   * before its record). `all` takes them too. Default one minute.
   */
  graceMs?: number;
}

type Item =
  | { type: "snapshot"; name: string; kind: UsageKind }
  | { type: "blob"; digest: Digest; kind: UsageKind }
  | { type: "area"; area: AreaKind; id: string; kind: UsageKind };

export class Collector {
  #running: Promise<unknown> = Promise.resolve();
  /**
   * Sizes of cache-area entries by their last use: an entry changes only
   * while used, so walking a big volume or mirror again is needed only after.
   */
  readonly #areaSizes = new Map<string, { lastUsed: number; size: number }>();

  constructor(private readonly deps: CollectorDeps) {}

  async usage(): Promise<UsageReport> {
    const candidates = await this.#candidates(true);
    const byKind = emptyByKind();
    const reclaimableByKind = emptyByKind();
    for (const c of candidates) byKind[c.item.kind] += c.size;
    // What `all` would remove: everything not in use and not held by something in use.
    for (const c of chooseVictims(candidates, Infinity, 0)) reclaimableByKind[c.item.kind] += c.size;
    const sum = (r: Record<UsageKind, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
    return { byKind, reclaimableByKind, total: sum(byKind), reclaimable: sum(reclaimableByKind) };
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
    const all = opts.all === true;
    const candidates = await this.#candidates(all);
    let usage = candidates.reduce((a, c) => a + c.size, 0);
    const result: PruneResult = { removedSnapshots: 0, removedByKind: {}, removedRecords: 0, freedBytes: 0, usageAfter: usage };
    const target = all ? 0 : (opts.keepBytes ?? Infinity);
    if (usage <= target) return result;

    const trash: string[] = [];
    for (const victim of chooseVictims(candidates, usage, target)) {
      if (!(await this.#remove(victim.item, trash, result))) continue;
      usage -= victim.size;
      result.freedBytes += victim.size;
      result.removedByKind[victim.item.kind] = (result.removedByKind[victim.item.kind] ?? 0) + 1;
    }
    for (const dir of trash) await fs.rm(dir, { recursive: true, force: true });
    result.usageAfter = Math.max(0, usage);
    return result;
  }

  /** Remove one planned victim, checking again that it is unused now; false when it stays. */
  async #remove(item: Item, trash: string[], result: PruneResult): Promise<boolean> {
    const { snapshots, leases, content, records } = this.deps;
    if (item.type === "snapshot") {
      // Synchronous with the check: a session cannot lease it in between.
      if (leases.isLeased(item.name)) return false;
      const dir = snapshots.detach(item.name);
      if (!dir) return false;
      trash.push(dir);
      result.removedSnapshots++;
      return true;
    }
    if (item.type === "blob") {
      // A snapshot recorded its layer in it since the plan: it stays.
      if (this.deps.layerBlobReferenced(item.digest)) return false;
      // The records owning it go first: none may answer with a blob that is gone.
      result.removedRecords += records.release(item.digest);
      await content.delete(item.digest);
      return true;
    }
    return (await this.deps.areas[item.area]?.removeCacheEntry(item.id)) ?? false;
  }

  /** Every candidate with its size, last use and what holds it. */
  async #candidates(all: boolean): Promise<Candidate<Item>[]> {
    const { leases, content, records } = this.deps;
    const out: Candidate<Item>[] = [];

    const list = await this.#measure();
    const children = new Map<number, number>();
    for (const s of list) if (s.parent !== null) children.set(s.parent, (children.get(s.parent) ?? 0) + 1);
    const layerHolders = this.deps.layerBlobHolders();
    const blobsOf = new Map<number, string[]>();
    for (const [digest, ids] of layerHolders) for (const id of ids) blobsOf.set(id, [...(blobsOf.get(id) ?? []), `b:${digest}`]);
    for (const s of list) {
      out.push({
        id: `s:${s.id}`,
        size: s.size,
        lastUsed: s.lastUsed,
        holders: children.get(s.id) ?? 0,
        removable: !leases.isLeased(s.name),
        holds: [...(s.parent !== null ? [`s:${s.parent}`] : []), ...(blobsOf.get(s.id) ?? [])],
        item: { type: "snapshot", name: s.name, kind: snapshotKindOf(s.name) },
      });
    }

    const owned = records.owned();
    const known = new Set(list.map((s) => s.id));
    const youngest = Date.now() - (this.deps.graceMs ?? 60_000);
    for await (const blob of content.list()) {
      const holders = (layerHolders.get(blob.digest) ?? []).filter((id) => known.has(id)).length;
      const owner = owned.get(blob.digest);
      const mtime = (await fs.stat(content.path(blob.digest)).catch(() => undefined))?.mtimeMs ?? 0;
      const kind: UsageKind = owner ? ownedBlobKind(owner.kind) : holders > 0 ? "content" : "unreferenced";
      out.push({
        id: `b:${blob.digest}`,
        size: blob.size,
        // A blob no record owns is worth nothing once no snapshot holds it: it goes first.
        lastUsed: owner?.lastUsed ?? -1,
        holders,
        removable: all || kind !== "unreferenced" || mtime < youngest,
        holds: [],
        garbage: !owner,
        item: { type: "blob", digest: blob.digest, kind },
      });
    }

    const seen = new Set<string>();
    for (const [area, impl] of Object.entries(this.deps.areas) as Array<[AreaKind, CacheArea]>) {
      for (const e of await impl.cacheEntries()) {
        const id = `a:${area}:${e.id}`;
        let measured = this.#areaSizes.get(id);
        if (measured?.lastUsed !== e.lastUsed) this.#areaSizes.set(id, (measured = { lastUsed: e.lastUsed, size: await diskUsage(e.dir) }));
        seen.add(id);
        out.push({
          id,
          size: measured.size,
          lastUsed: e.lastUsed,
          holders: 0,
          removable: !e.inUse,
          holds: [],
          item: { type: "area", area, id: e.id, kind: area },
        });
      }
    }
    for (const id of this.#areaSizes.keys()) if (!seen.has(id)) this.#areaSizes.delete(id);
    return out;
  }

  /** Committed snapshots, with sizes measured once (they never change after commit). */
  async #measure(): Promise<ReturnType<OverlaySnapshotter["list"]>> {
    const { snapshots } = this.deps;
    const list = snapshots.list();
    for (const s of list) {
      if (s.size > 0) continue;
      s.size = Math.max(1, await diskUsage(`${snapshots.dirOf(s.id)}/fs`));
      try {
        snapshots.setSize(s.id, s.size);
      } catch (err) {
        // A full disk: `du` and a prune still work, the size is measured again next time.
        if ((err as { code?: unknown }).code !== "SQLITE_FULL") throw err;
      }
    }
    return list;
  }
}
