import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedMemo } from "./memo.js";

test("BoundedMemo: shares a result by key, forgets failures and the least recently used", async () => {
  const memo = new BoundedMemo<number>(2);
  let made = 0;
  const make = (n: number) => () => {
    made++;
    return Promise.resolve(n);
  };
  assert.equal(await memo.get("a", make(1)), 1);
  assert.equal(await memo.get("a", make(99)), 1);
  assert.equal(made, 1);
  await memo.get("b", make(2));
  await memo.get("a", make(99)); // a is now the most recent
  await memo.get("c", make(3)); // b goes
  assert.equal(memo.size, 2);
  assert.equal(await memo.get("b", make(22)), 22);
  assert.equal(await memo.get("a", make(99)), 99, "a went when b came back");
  await assert.rejects(
    memo.get("x", () => Promise.reject(new Error("no"))),
    /no/,
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(await memo.get("x", make(7)), 7, "a failure is not kept");
});
