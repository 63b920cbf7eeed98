import assert from "node:assert/strict";
import { test } from "node:test";
import { callName } from "./call-span.js";

test("callName: the chain of first fields, per operation, asked again of the same text", () => {
  const doc = 'query A { container { from(address: "alpine") { stdout } } } query B { version }';
  for (let i = 0; i < 2; i++) {
    assert.equal(callName(doc, "A"), 'container.from(address: "alpine").stdout');
    assert.equal(callName(doc, "B"), "version");
    assert.equal(callName(doc), 'container.from(address: "alpine").stdout');
    assert.equal(callName("{ nope", undefined), undefined);
  }
});
