/**
 * The automatic collection policy (buildkitd's keys): how much the cache may
 * keep, given the configured limits and the free space on its filesystem.
 */
import * as fs from "node:fs/promises";
import type { GcPolicy } from "../config/engine-config.js";

export interface DiskSpace {
  size: number;
  free: number;
}

/**
 * Bytes the cache may keep, or undefined when `usage` is within it. Short of
 * free space, only the shortfall is collected: a disk filled by other data
 * never costs the whole cache.
 */
export function computeKeep(policy: GcPolicy, usage: number, disk: DiskSpace): number | undefined {
  if (!policy.enabled) return undefined;
  let keep = Math.min(policy.keepStorage ?? disk.size / 10, policy.maxUsedSpace ?? Infinity);
  if (policy.minFreeSpace !== undefined && disk.free < policy.minFreeSpace) keep = Math.min(keep, usage - (policy.minFreeSpace - disk.free));
  keep = Math.max(keep, policy.reservedSpace ?? 0, 0);
  return usage > keep ? keep : undefined;
}

export async function keepTarget(policy: GcPolicy, root: string, usage: number): Promise<number | undefined> {
  const st = await fs.statfs(root);
  return computeKeep(policy, usage, { size: st.blocks * st.bsize, free: st.bavail * st.bsize });
}
