/**
 * The engine and its cache as API objects (`Query.engine`): the cache's
 * snapshots as entries, the collection policy, and pruning, backed by the
 * engine's real cache (the snapshotter, the leases and the collector).
 */
import type { GcPolicy } from "../config/engine-config.js";
import { InvalidArgumentError } from "../errors.js";
import type { PruneResult, UsageReport } from "../gc/collector.js";
import { keepTarget } from "../gc/policy.js";
import { snapshotKindOf as kindOf } from "../gc/types.js";
import type { RequestContext } from "./types.js";

/** What the engine lends the API for its cache (wired by the server). */
export interface EngineCacheAccess {
  readonly name: string;
  readonly root: string;
  readonly policy: GcPolicy;
  usage(): Promise<UsageReport>;
  prune(opts: { keepBytes?: number; all?: boolean }): Promise<PruneResult>;
  /** IDs of the connected clients. */
  clients(): string[];
}

export class EngineObject {
  readonly typename = "Engine";
  toJSON(): unknown {
    return {};
  }
}

export class EngineCache {
  readonly typename = "EngineCache";
  toJSON(): unknown {
    return {};
  }
}

export class EngineCacheEntrySet {
  readonly typename = "EngineCacheEntrySet";
  constructor(readonly key: string) {}
  toJSON(): unknown {
    return { key: this.key };
  }
}

export class EngineCacheEntry {
  readonly typename = "EngineCacheEntry";
  constructor(
    readonly description: string,
    readonly recordType: string,
    readonly diskSpaceBytes: number,
    readonly activelyUsed: boolean,
    readonly mostRecentUseTimeUnixNano: number,
  ) {}
  toJSON(): unknown {
    const { description, recordType, diskSpaceBytes, activelyUsed, mostRecentUseTimeUnixNano } = this;
    return { description, recordType, diskSpaceBytes, activelyUsed, mostRecentUseTimeUnixNano };
  }
}

export function cacheAccess(ctx: RequestContext): EngineCacheAccess {
  const cache = ctx.deps.cache;
  if (!cache) throw new InvalidArgumentError("this engine does not expose its cache");
  return cache;
}

/** The cache's snapshots (sizes measured), those whose name contains `key` when given. */
export async function cacheEntries(ctx: RequestContext, key: string): Promise<EngineCacheEntry[]> {
  await cacheAccess(ctx).usage();
  return ctx.deps.snapshots
    .list()
    .filter((s) => key === "" || s.name.includes(key))
    .sort((a, b) => b.lastUsed - a.lastUsed)
    .map((s) => new EngineCacheEntry(s.name, kindOf(s.name), s.size, ctx.deps.leases.isLeased(s.name), s.lastUsed * 1e6));
}

export interface PruneOptions {
  useDefaultPolicy: boolean;
  maxUsedSpace?: number;
  reservedSpace?: number;
  minFreeSpace?: number;
  targetSpace?: number;
}

/** Prune: by the engine's policy, by the limits given, or (neither) everything not in use. */
export async function pruneCache(ctx: RequestContext, o: PruneOptions): Promise<void> {
  const cache = cacheAccess(ctx);
  const limits = o.maxUsedSpace !== undefined || o.reservedSpace !== undefined || o.minFreeSpace !== undefined || o.targetSpace !== undefined;
  if (!o.useDefaultPolicy && !limits) {
    await cache.prune({ all: true });
    return;
  }
  const base: GcPolicy = o.useDefaultPolicy ? cache.policy : { enabled: true };
  const policy: GcPolicy = {
    ...base,
    enabled: true,
    ...(o.targetSpace !== undefined ? { keepStorage: o.targetSpace } : {}),
    ...(o.maxUsedSpace !== undefined ? { maxUsedSpace: o.maxUsedSpace } : {}),
    ...(o.reservedSpace !== undefined ? { reservedSpace: o.reservedSpace } : {}),
    ...(o.minFreeSpace !== undefined ? { minFreeSpace: o.minFreeSpace } : {}),
  };
  const keep = await keepTarget(policy, cache.root, (await cache.usage()).total);
  if (keep !== undefined) await cache.prune({ keepBytes: keep });
}
