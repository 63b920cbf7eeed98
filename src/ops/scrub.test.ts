import assert from "node:assert/strict";
import { test } from "node:test";
import { StreamScrubber, scrub } from "./scrub.js";

test("values are masked everywhere, longest first", () => {
  assert.equal(scrub("a hunter2 b hunter2", ["hunter2"]), "a *** b ***");
  assert.equal(scrub("abcdef", ["abc", "abcdef"]), "***");
  assert.equal(scrub("line1\nline2 tail", ["line1\nline2"]), "*** tail");
});

test("a value split across chunks is still masked", () => {
  const s = new StreamScrubber(["hunter2"]);
  const out = s.push("xx hun") + s.push("ter") + s.push("2 yy") + s.flush();
  assert.equal(out, "xx *** yy");
});

test("nothing is held back without secrets", () => {
  const s = new StreamScrubber([]);
  assert.equal(s.push("abc"), "abc");
});
