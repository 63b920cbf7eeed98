import assert from "node:assert/strict";
import { test } from "node:test";
import { nestingDepth } from "./limits.js";

test("nesting is counted outside strings and comments", () => {
  assert.equal(nestingDepth("{ a { b(x: [1]) } }"), 4);
  assert.equal(nestingDepth('{ a(s: "{{{{") }'), 2);
  assert.equal(nestingDepth('{ a(s: """ {{{ \\""" """) } # {{{{\n'), 2);
  assert.equal(nestingDepth('{ a(s: "esc \\" {{") }'), 2);
});
