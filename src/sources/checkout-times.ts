/**
 * Git checkouts carry no timestamps of their own: as Dagger does, every path
 * of a checkout (the directory itself, `.git` included, symlinks themselves)
 * gets one fixed time, so that a commit checks out to identical files
 * whenever and wherever it is fetched. The time is 1 second past the epoch,
 * not 0: build tools that read a missing output as the epoch would otherwise
 * think sources of time 0 up to date.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";

export const CHECKOUT_TIME_SECONDS = 1;

export async function normalizeCheckoutTimes(dir: string): Promise<void> {
  const t = CHECKOUT_TIME_SECONDS;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      await fs.lutimes(p, t, t);
    }
  };
  await walk(dir);
  await fs.lutimes(dir, t, t);
}
