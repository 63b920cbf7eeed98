import assert from "node:assert/strict";
import { test } from "node:test";
import { SpanFanout } from "./fanout.js";
import type { SpanEvent } from "./types.js";

test("a watcher that joins later sees past and future events under its own parent, once", () => {
  const a: SpanEvent[] = [];
  const b: SpanEvent[] = [];
  const sinkA = (e: SpanEvent) => void a.push(e);
  const sinkB = (e: SpanEvent) => void b.push(e);
  const f = new SpanFanout(sinkA, "pa");
  f.emit({ type: "start", span: "s1", parent: "pa", name: "exec", time: 1 });
  f.emit({ type: "log", span: "s1", stream: 1, data: "early\n" });
  f.join(sinkB, "pb");
  f.join(sinkB, "pb");
  f.join((e) => void a.push(e), "pa");
  f.emit({ type: "start", span: "s2", parent: "s1", name: "inner", time: 2 });
  f.emit({ type: "done", span: "s1", parent: "pa", name: "exec", cached: false, durationMs: 5 });
  assert.deepEqual(
    a.map((e) => e.type),
    ["start", "log", "start", "done"],
  );
  assert.deepEqual(b, [
    { type: "start", span: "s1", parent: "pb", name: "exec", time: 1 },
    { type: "start", span: "s2", parent: "s1", name: "inner", time: 2 },
    { type: "done", span: "s1", parent: "pb", name: "exec", cached: false, durationMs: 5 },
  ]);
});
