/**
 * Random ids (trace and span ids) as hex, from the kernel's random source read
 * 4 KiB at a time: node:crypto would cost every CLI command ~2 ms of its start
 * to load for the two ids of its span, where this costs one small read.
 */
import { closeSync, openSync, readSync } from "node:fs";

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/** `bytes` random bytes as 2 × `bytes` hex digits. */
export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = Buffer.allocUnsafe(Math.max(POOL_BYTES, bytes));
    const fd = openSync("/dev/urandom", "r");
    try {
      for (let n = 0; n < pool.length; ) n += readSync(fd, pool, n, pool.length - n, null);
    } finally {
      closeSync(fd);
    }
    used = 0;
  }
  const hex = pool.toString("hex", used, used + bytes);
  used += bytes;
  return hex;
}
