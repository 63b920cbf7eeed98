/** The pool's policy with counting items: no host resources, so no root needed. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError, FailedPreconditionError } from "../errors.js";
import { ReadyPool } from "./ready-pool.js";

function counting(opts: { size: number; maxIdle?: number; createMs?: number; clean?: (n: number) => boolean }) {
  let made = 0;
  const destroyed: number[] = [];
  const errors: string[] = [];
  const pool = new ReadyPool<number>({
    size: opts.size,
    maxIdle: opts.maxIdle ?? opts.size,
    create: async () => {
      await new Promise((r) => setTimeout(r, opts.createMs ?? 1));
      return ++made;
    },
    destroy: async (n) => void destroyed.push(n),
    recycle: async (n) => opts.clean?.(n) ?? true,
    onError: (err, during) => void errors.push(`${during}: ${String(err)}`),
  });
  return { pool, made: () => made, destroyed, errors };
}

const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond` holds (the pool works in the background; a loaded machine may be slow). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(5);
  }
}

describe("ReadyPool", () => {
  it("fills to size and hands out ready items; what is lent counts: only a destroyed item is replaced", async () => {
    const c = counting({ size: 2 });
    c.pool.fill();
    await until(() => c.pool.readyCount === 2, "the pool to fill");
    assert.equal(await c.pool.acquire(), 1);
    assert.equal(await c.pool.acquire(), 2);
    await settle();
    assert.equal(c.made(), 2, "nothing made while both are lent");
    c.pool.release(1);
    c.pool.release(2, { discard: true });
    await until(() => c.pool.readyCount === 2, "the pool to replace the discarded item");
    assert.equal(c.made(), 3);
    assert.deepEqual(c.destroyed, [2]);
    await c.pool.close();
    assert.deepEqual(c.destroyed.sort(), [1, 2, 3]);
  });

  it("a burst beyond size makes the rest on the spot, keeps them on return up to maxIdle and makes nothing more", async () => {
    const c = counting({ size: 2, maxIdle: 3 });
    c.pool.fill();
    await until(() => c.pool.readyCount === 2, "the pool to fill");
    const items = await Promise.all([1, 2, 3, 4].map(() => c.pool.acquire()));
    assert.deepEqual(items.sort(), [1, 2, 3, 4]);
    for (const i of items) c.pool.release(i);
    await until(() => c.pool.readyCount === 3 && c.destroyed.length === 1, "returns to settle");
    await settle();
    assert.equal(c.made(), 4, "no refill ran for items that were coming back");
    await c.pool.close();
    assert.deepEqual(c.errors, []);
  });

  it("makes one on the spot when empty", async () => {
    const c = counting({ size: 0 });
    assert.equal(await c.pool.acquire(), 1);
    assert.equal(await c.pool.acquire(), 2);
    await c.pool.close();
  });

  it("keeps clean returns up to maxIdle and destroys unclean or discarded ones", async () => {
    const c = counting({ size: 1, maxIdle: 2, clean: (n) => n !== 3 });
    c.pool.fill();
    await until(() => c.pool.readyCount === 1, "the pool to fill");
    const items = [await c.pool.acquire(), await c.pool.acquire(), await c.pool.acquire(), await c.pool.acquire()];
    for (const i of items) c.pool.release(i);
    await until(() => c.destroyed.includes(3) && c.pool.readyCount === 2, "returns to settle");
    await settle();
    assert.equal(c.pool.readyCount, 2, "maxIdle caps the pool");
    const d = await c.pool.acquire();
    c.pool.release(d, { discard: true });
    await until(() => c.destroyed.includes(d), "the discarded item to be destroyed");
    await c.pool.close();
    assert.deepEqual(c.errors, []);
  });

  it("gives an abandoned creation to the pool and waits for it on close", async () => {
    const c = counting({ size: 0, createMs: 50 });
    const controller = new AbortController();
    const acquiring = c.pool.acquire({ signal: controller.signal });
    controller.abort();
    await assert.rejects(acquiring, CancelledError);
    await c.pool.close();
    assert.deepEqual(c.destroyed, [1], "made anyway, then destroyed at close");
    await assert.rejects(c.pool.acquire(), FailedPreconditionError);
  });
});
