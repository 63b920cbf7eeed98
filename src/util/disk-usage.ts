/** Sizes on disk, for the collector's accounting. */
import type { Dirent } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";

/** Bytes allocated on disk below `p` (like `du -s`, without following links); 0 when it does not exist. */
export async function diskUsage(p: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
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
  const top = await fs.lstat(p).catch(() => undefined);
  if (!top) return 0;
  if (!top.isDirectory()) return top.blocks * 512;
  await walk(p);
  return total;
}

/** The entries of a directory that holds one cache entry per subdirectory, with their last use. */
export async function listEntries(
  dir: string,
  lastUsedOf: (entryDir: string) => Promise<number>,
): Promise<Array<{ id: string; dir: string; lastUsed: number }>> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: Array<{ id: string; dir: string; lastUsed: number }> = [];
  for (const name of names) {
    const full = path.join(dir, name);
    out.push({ id: name, dir: full, lastUsed: await lastUsedOf(full) });
  }
  return out;
}

/** Remove what a removal moved aside (`.trash-*`) and a crash left behind. */
export async function removeTrash(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(".trash-")) await fs.rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Modification time of `p` in ms, or 0 when it is gone. */
export async function mtimeMs(p: string): Promise<number> {
  return (await fs.stat(p).catch(() => undefined))?.mtimeMs ?? 0;
}
