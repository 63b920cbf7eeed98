/** Query.engine: the engine, its cache entries and pruning. */

import { parseSize } from "../../config/engine-config.js";
import { cacheAccess, cacheEntries, EngineCache, type EngineCacheEntry, EngineCacheEntrySet, EngineObject, pruneCache } from "../../core/engine-cache.js";
import { encodeId } from "../../core/ids.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { type Args, bool, optStr } from "./args.js";

function sizeArg(a: Args, k: string): number | undefined {
  const v = optStr(a, k);
  if (v === undefined || v === "") return undefined;
  const n = parseSize(v);
  if (n === undefined) throw new InvalidArgumentError(`prune ${k}: invalid size ${JSON.stringify(v)} (want e.g. "10GB", "512MiB" or bytes)`);
  return n;
}

export const engineQueryResolvers = {
  engine: () => new EngineObject(),
};

export const engineResolvers = {
  id: (e: EngineObject) => encodeId(e),
  name: (_e: EngineObject, _a: Args, ctx: RequestContext) => cacheAccess(ctx).name,
  clients: (_e: EngineObject, _a: Args, ctx: RequestContext) => cacheAccess(ctx).clients(),
  localCache: () => new EngineCache(),
};

export const engineCacheResolvers = {
  id: (c: EngineCache) => encodeId(c),
  entrySet: (_c: EngineCache, a: Args) => new EngineCacheEntrySet(optStr(a, "key") ?? ""),
  prune: async (_c: EngineCache, a: Args, ctx: RequestContext) => {
    const limit = (k: string) => {
      const n = sizeArg(a, k);
      return n === undefined ? {} : { [k]: n };
    };
    await pruneCache(ctx, {
      useDefaultPolicy: bool(a, "useDefaultPolicy"),
      ...limit("maxUsedSpace"),
      ...limit("reservedSpace"),
      ...limit("minFreeSpace"),
      ...limit("targetSpace"),
    });
    return null;
  },
  maxUsedSpace: (_c: EngineCache, _a: Args, ctx: RequestContext) => cacheAccess(ctx).policy.maxUsedSpace ?? 0,
  reservedSpace: (_c: EngineCache, _a: Args, ctx: RequestContext) => cacheAccess(ctx).policy.reservedSpace ?? 0,
  minFreeSpace: (_c: EngineCache, _a: Args, ctx: RequestContext) => cacheAccess(ctx).policy.minFreeSpace ?? 0,
  targetSpace: (_c: EngineCache, _a: Args, ctx: RequestContext) => cacheAccess(ctx).policy.keepStorage ?? 0,
};

export const engineCacheEntrySetResolvers = {
  id: (s: EngineCacheEntrySet) => encodeId(s),
  entries: (s: EngineCacheEntrySet, _a: Args, ctx: RequestContext) => cacheEntries(ctx, s.key),
  entryCount: async (s: EngineCacheEntrySet, _a: Args, ctx: RequestContext) => (await cacheEntries(ctx, s.key)).length,
  diskSpaceBytes: async (s: EngineCacheEntrySet, _a: Args, ctx: RequestContext) => (await cacheEntries(ctx, s.key)).reduce((n, e) => n + e.diskSpaceBytes, 0),
};

/** createdTimeUnixNano: the snapshotter keeps no creation time, so it reports the last use (the time of creation at the latest). */
export const engineCacheEntryResolvers = {
  id: (e: EngineCacheEntry) => encodeId(e),
  description: (e: EngineCacheEntry) => e.description,
  recordType: (e: EngineCacheEntry) => e.recordType,
  recordTypes: (e: EngineCacheEntry) => [e.recordType],
  dagqlCall: () => "",
  diskSpaceBytes: (e: EngineCacheEntry) => e.diskSpaceBytes,
  activelyUsed: (e: EngineCacheEntry) => e.activelyUsed,
  createdTimeUnixNano: (e: EngineCacheEntry) => e.mostRecentUseTimeUnixNano,
  mostRecentUseTimeUnixNano: (e: EngineCacheEntry) => e.mostRecentUseTimeUnixNano,
};
