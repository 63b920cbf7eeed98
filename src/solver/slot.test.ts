import assert from "node:assert/strict";
import { test } from "node:test";
import { Semaphore } from "../util/semaphore.js";
import { HeldSlot } from "./slot.js";

test("a held slot is given back while waiting outside it, and for good when the op finishes", async () => {
  const slots = new Semaphore(1);
  const held = await HeldSlot.take(slots);
  assert.equal(held.held, true);
  // Someone else can run while the holder waits outside its slot.
  const other = await held.outside(async () => {
    using _s = await slots.acquire();
    return "other ran";
  });
  assert.equal(other, "other ran");
  assert.equal(held.held, true, "taken again after the wait");
  // Two waits at once: the slot comes back once, after both.
  await Promise.all([held.outside(() => new Promise((r) => setTimeout(r, 5))), held.outside(() => new Promise((r) => setTimeout(r, 10)))]);
  assert.equal(held.held, true);
  held.finish();
  assert.equal(held.held, false);
  using again = await slots.acquire();
  assert.ok(again, "the slot is free after finish");
  assert.equal(await held.outside(async () => "after finish"), "after finish");
});
