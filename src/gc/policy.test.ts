import assert from "node:assert/strict";
import { test } from "node:test";
import { computeKeep } from "./policy.js";

const GB = 1e9;
const disk = { size: 100 * GB, free: 50 * GB };

test("within the limits nothing is collected", () => {
  assert.equal(computeKeep({ enabled: true, keepStorage: 2 * GB }, 1 * GB, disk), undefined);
  assert.equal(computeKeep({ enabled: false, keepStorage: 1 }, 5 * GB, disk), undefined);
});

test("keepStorage and maxUsedSpace cap the cache; the default is 10% of the disk", () => {
  assert.equal(computeKeep({ enabled: true, keepStorage: 2 * GB }, 3 * GB, disk), 2 * GB);
  assert.equal(computeKeep({ enabled: true, keepStorage: 2 * GB, maxUsedSpace: 1 * GB }, 3 * GB, disk), 1 * GB);
  assert.equal(computeKeep({ enabled: true }, 11 * GB, disk), 10 * GB);
});

test("short of free space, only the shortfall is collected", () => {
  const full = { size: 100 * GB, free: 1 * GB };
  // 3 GB short: a 8 GB cache goes to 5 GB, not to nothing.
  assert.equal(computeKeep({ enabled: true, keepStorage: 20 * GB, minFreeSpace: 4 * GB }, 8 * GB, full), 5 * GB);
});

test("reservedSpace is never collected", () => {
  const full = { size: 100 * GB, free: 0 };
  assert.equal(computeKeep({ enabled: true, keepStorage: 20 * GB, minFreeSpace: 50 * GB, reservedSpace: 2 * GB }, 8 * GB, full), 2 * GB);
});
