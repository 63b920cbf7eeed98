import assert from "node:assert/strict";
import { test } from "node:test";
import { type Candidate, chooseVictims } from "./plan.js";

const MB = 1e6;
const c = (id: string, size: number, lastUsed: number, more: Partial<Candidate<string>> = {}): Candidate<string> => ({
  id,
  size,
  lastUsed,
  holders: 0,
  removable: true,
  holds: [],
  item: id,
  ...more,
});
const ids = (v: Candidate<string>[]): string[] => v.map((x) => x.id);

test("least recently used first across kinds, stopping once within the target", () => {
  const all = [c("s:old", 10 * MB, 1), c("vol:a", 100 * MB, 2), c("blob:x", 50 * MB, 3), c("s:new", 10 * MB, 4)];
  // 170 MB, keep 100: the old snapshot, then the volume must go; with the volume gone the old
  // snapshot fits again, so only the volume goes.
  assert.deepEqual(ids(chooseVictims(all, 170 * MB, 100 * MB)), ["vol:a"]);
  assert.deepEqual(ids(chooseVictims(all, 170 * MB, 50 * MB)), ["vol:a", "blob:x"]);
  assert.deepEqual(ids(chooseVictims(all, 170 * MB, 170 * MB)), []);
});

test("volumes and blobs over the policy are collected from, not every snapshot", () => {
  // 1 GB of volumes and blobs, used before ten small results; policy 300 MB.
  const results = Array.from({ length: 10 }, (_, i) => c(`s:${i}`, 5 * MB, 100 + i));
  const bulk = [c("vol:a", 400 * MB, 10), c("vol:b", 300 * MB, 20), c("blob:d", 300 * MB, 30)];
  const victims = chooseVictims([...results, ...bulk], 1050 * MB, 300 * MB);
  assert.deepEqual(ids(victims), ["vol:a", "vol:b", "blob:d"]);
});

test("what is in use never goes, and what it holds stays", () => {
  const all = [
    c("s:parent", 10 * MB, 1, { holders: 1 }),
    c("s:leased", 10 * MB, 2, { removable: false, holds: ["s:parent"] }),
    c("vol:busy", 100 * MB, 0, { removable: false }),
    c("vol:idle", 100 * MB, 5),
  ];
  assert.deepEqual(ids(chooseVictims(all, Infinity, 0)), ["vol:idle"]);
});

test("a parent goes after its children, at its own last use; a layer's blob after its snapshot", () => {
  const all = [
    c("s:base", 10 * MB, 1, { holders: 2, holds: ["blob:base"] }),
    c("blob:base", 5 * MB, 0, { holders: 1 }),
    c("s:a", 10 * MB, 3, { holds: ["s:base"] }),
    c("s:b", 10 * MB, 5, { holds: ["s:base"] }),
    c("vol", 10 * MB, 4),
  ];
  assert.deepEqual(ids(chooseVictims(all, Infinity, 0)), ["s:a", "vol", "s:b", "s:base", "blob:base"]);
  // Only one child gone: the parent and its blob are still held.
  assert.deepEqual(ids(chooseVictims(all, 45 * MB, 35 * MB)), ["s:a"]);
});

test("garbage goes whenever a pass runs, even within the target; only free garbage", () => {
  const all = [
    c("s:layer", 40 * MB, 5, { holds: ["blob:layer"] }),
    c("blob:layer", 40 * MB, -1, { holders: 1, garbage: true }),
    c("blob:orphan", 1 * MB, -1, { garbage: true }),
    c("blob:young", 1 * MB, -1, { garbage: true, removable: false }),
    c("s:recent", 10 * MB, 9),
  ];
  // 92 MB, keep 60: the orphan first, then the layer's snapshot, then its blob (now garbage) although within the target.
  assert.deepEqual(ids(chooseVictims(all, 92 * MB, 60 * MB)), ["blob:orphan", "s:layer", "blob:layer"]);
  // A pass that has nothing to free beyond garbage still clears the garbage.
  assert.deepEqual(ids(chooseVictims(all, 92 * MB, 92 * MB)), ["blob:orphan"]);
});

test("a recently used volume that must go anyway does not take the older results with it", () => {
  const all = [
    c("s:parent", 10 * MB, 1, { holders: 1, holds: ["blob:parent"] }),
    c("blob:parent", 5 * MB, -1, { holders: 1, garbage: true }),
    c("s:child", 10 * MB, 2, { holds: ["s:parent"] }),
    ...Array.from({ length: 5 }, (_, i) => c(`s:${i}`, 10 * MB, 3 + i)),
    c("vol:busy-lately", 1000 * MB, 50),
  ];
  // 1075 MB, keep 300: by age everything would go; only the volume has to.
  assert.deepEqual(ids(chooseVictims(all, 1075 * MB, 300 * MB)), ["vol:busy-lately"]);
  // Keep 20: the parent chain cannot stay without its child's room; what fits (the newest results) stays.
  const victims = ids(chooseVictims(all, 1075 * MB, 20 * MB));
  assert.deepEqual(victims, ["s:child", "s:parent", "blob:parent", "s:0", "s:1", "s:2", "vol:busy-lately"]);
});
