/**
 * A reserve of space on the state filesystem. A full disk must not stop the
 * way out of it: SQLite needs room for its journal before it can delete a
 * row, so a prune on a disk filled to the last block would fail with
 * "database or disk is full". The engine keeps a small file it can give up:
 * a cleanup that fails for lack of space releases the reserve and tries
 * again, and the reserve is taken back once there is room.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, messageOf } from "../errors.js";

const RESERVE_FILE = "space-reserve";
export const RESERVE_BYTES = 8 << 20;

/** Errors that mean the state filesystem ran out of space (or SQLite could not grow its files). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "SQLITE_FULL" || /ENOSPC|no space left on device|database or disk is full/i.test(messageOf(err));
}

/** Take the reserve if it is missing (best effort: a full disk simply has none until space frees up). */
export async function ensureReserve(root: string): Promise<void> {
  const file = path.join(root, RESERVE_FILE);
  const st = await fs.stat(file).catch(() => undefined);
  if (st?.size === RESERVE_BYTES) return;
  const fh = await fs.open(file, "w", 0o600).catch(() => undefined);
  if (!fh) return;
  try {
    // Written, not sparse: the blocks must really be taken to be given back later.
    const chunk = Buffer.alloc(1 << 20);
    for (let off = 0; off < RESERVE_BYTES; off += chunk.length) await fh.write(chunk, 0, chunk.length, off);
  } catch {
    await fh.close().catch(() => undefined);
    await fs.rm(file, { force: true });
    return;
  }
  await fh.close();
}

/** Run a cleanup; if it fails for lack of space, give up the reserve and run it again. */
export async function withReserve<T>(root: string, cleanup: () => Promise<T>): Promise<T> {
  try {
    return await cleanup();
  } catch (err) {
    if (!isDiskFull(err)) throw err;
    await fs.rm(path.join(root, RESERVE_FILE), { force: true });
    const result = await cleanup();
    await ensureReserve(root);
    return result;
  }
}

/** The error a step gets when the state filesystem is full: which directory, how much is free, what to do. */
export async function diskFullError(root: string, cause: unknown): Promise<FailedPreconditionError> {
  const st = await fs.statfs(root).catch(() => undefined);
  const free = st ? st.bavail * st.bsize : 0;
  return new FailedPreconditionError(
    `the state directory ${root} is full (${free} bytes free; the step needs more, and the engine keeps ${RESERVE_BYTES} bytes in reserve for cleanup): free space on its filesystem or run "tanto engine prune --all" (${messageOf(cause)})`,
    { cause },
  );
}

/** A GraphQL answer whose disk-full errors name the state directory and what to do. */
export async function explainDiskFull<R extends object>(root: string, result: R): Promise<R> {
  const errors: unknown = (result as { errors?: unknown }).errors;
  const full = (e: unknown): boolean => isDiskFull(String((e as { message?: unknown } | null)?.message ?? ""));
  if (!Array.isArray(errors) || !errors.some(full)) return result;
  const explained = await Promise.all(
    errors.map(async (e: unknown) => (full(e) ? { ...(e as object), message: (await diskFullError(root, (e as { message: string }).message)).message } : e)),
  );
  return { ...result, errors: explained };
}
