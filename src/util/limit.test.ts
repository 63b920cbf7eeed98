import assert from "node:assert/strict";
import { test } from "node:test";
import { limiter } from "./limit.js";

test("a limiter runs at most its size at once and frees a place on failure", async () => {
  const limit = limiter(2);
  let running = 0;
  let most = 0;
  const job = (fail: boolean) =>
    limit(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      if (fail) throw new Error("boom");
      return 1;
    });
  const results = await Promise.allSettled([job(true), job(false), job(true), job(false), job(false)]);
  assert.equal(most, 2);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "fulfilled", "rejected", "fulfilled", "fulfilled"],
  );
  const ac = new AbortController();
  const held = [limit(() => new Promise((r) => setTimeout(r, 50))), limit(() => new Promise((r) => setTimeout(r, 50)))];
  const waiting = limit(async () => "ran", ac.signal);
  ac.abort(new Error("gave up"));
  await assert.rejects(waiting, /gave up/);
  await Promise.all(held);
});
