import assert from "node:assert/strict";
import { test } from "node:test";
import { randomHex } from "./random-hex.js";

test("randomHex: hex of the length asked, no repeats across pool refills", () => {
  const seen = new Set<string>();
  // 3000 × 8 bytes: the pool is refilled several times.
  for (let i = 0; i < 3000; i++) {
    const id = randomHex(8);
    assert.match(id, /^[0-9a-f]{16}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 3000);
  assert.match(randomHex(16), /^[0-9a-f]{32}$/);
  assert.match(randomHex(5000), /^[0-9a-f]{10000}$/);
});
