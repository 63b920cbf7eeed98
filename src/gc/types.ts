/**
 * What the collector accounts and collects, by kind:
 *
 * - snapshots, by what made them (image layers, exec results, file
 *   operations, client directories, git checkouts, downloads, exports);
 * - content blobs: those holding a snapshot's layer ("content"), those a
 *   cache record owns (an export's manifests, a download: counted with
 *   "exports" and "downloads"), and those nothing references ("unreferenced");
 * - cache areas outside snapshots: cache volumes, mirrors of client
 *   directories, git cache repositories.
 *
 * Every kind is collected by one policy: least recently used first, never
 * what is in use (leased snapshots, mounted volumes, a mirror syncing, a git
 * repository being checked out), and a cache record always goes with the
 * first of its parts.
 */

export const SNAPSHOT_KINDS = ["images", "exec", "files", "host", "git", "downloads", "exports", "other"] as const;
export const AREA_KINDS = ["volumes", "hostMirrors", "gitCaches"] as const;
export const USAGE_KINDS = [...SNAPSHOT_KINDS, "content", "unreferenced", ...AREA_KINDS] as const;

export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];
export type AreaKind = (typeof AREA_KINDS)[number];
export type UsageKind = (typeof USAGE_KINDS)[number];

export interface UsageReport {
  /** Bytes on disk by kind. */
  byKind: Record<UsageKind, number>;
  /** Of those, what a prune with `all` could free now (not leased, not in use). */
  reclaimableByKind: Record<UsageKind, number>;
  total: number;
  reclaimable: number;
}

export interface PruneResult {
  removedSnapshots: number;
  /** Entries removed by kind (snapshots, blobs, volumes, mirrors, repositories). */
  removedByKind: Partial<Record<UsageKind, number>>;
  /** Cache records removed with what they owned. */
  removedRecords: number;
  freedBytes: number;
  usageAfter: number;
}

/** One entry of a cache area, as its owner reports it. */
export interface CacheEntry {
  id: string;
  /** Its directory: the collector measures it (again only after a newer last use). */
  dir: string;
  lastUsed: number;
  inUse: boolean;
}

/**
 * A cache kept in directories of its own (cache volumes, host mirrors, git
 * repositories). Its owner knows what is in use and removes an entry only
 * when it is not, atomically with respect to new users.
 */
export interface CacheArea {
  cacheEntries(): Promise<CacheEntry[]>;
  /** Remove an entry unless it is in use now; false when it stayed. */
  removeCacheEntry(id: string): Promise<boolean>;
}

/** The cache records' side: which blobs records own, and dropping those records. */
export interface BlobOwners {
  /** Digest → last use of its owning records and the kind of op that made it. */
  owned(): Map<string, { lastUsed: number; kind: string }>;
  /** Remove every record owning `digest`; returns how many. */
  release(digest: string): number;
  /** Ids of the snapshots some record answers with or owns. */
  referencedSnapshots(): Set<number>;
}

export function emptyByKind(): Record<UsageKind, number> {
  return Object.fromEntries(USAGE_KINDS.map((k) => [k, 0])) as Record<UsageKind, number>;
}

export function snapshotKindOf(name: string): SnapshotKind {
  if (name.startsWith("layer/")) return "images";
  if (name.startsWith("exec/")) return "exec";
  if (name.startsWith("file/")) return "files";
  if (name.startsWith("host/")) return "host";
  if (name.startsWith("git/")) return "git";
  if (name.startsWith("http/")) return "downloads";
  if (name.startsWith("image-tarball/")) return "exports";
  return "other";
}

/** The kind a record-owned blob counts under, by the kind of op that made it. */
export function ownedBlobKind(opKind: string): UsageKind {
  if (opKind === "http-file") return "downloads";
  if (opKind === "image-tarball") return "exports";
  return "content";
}
