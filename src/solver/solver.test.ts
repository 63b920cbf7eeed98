import assert from "node:assert/strict";
import { test } from "node:test";
import type { Digest } from "../oci/digest.js";
import type { CacheRecords } from "./cache-records.js";
import { Solver } from "./solver.js";
import type { OpRunner, Result, Vertex } from "./types.js";
import { isVertex, vertex } from "./vertex.js";

/** Cache records in memory: the solver's logic, not SQLite, is under test here. */
class MemoryRecords implements CacheRecords {
  readonly map = new Map<Digest, Result>();
  get(key: Digest): Result | undefined {
    return this.map.get(key);
  }
  put(key: Digest, _kind: string, result: Result): void {
    this.map.set(key, result);
  }
  delete(key: Digest): void {
    this.map.delete(key);
  }
}

/** An op that counts its runs and can be held open to observe concurrency. */
class CountingOp implements OpRunner {
  readonly kind = "count";
  readonly cacheable = true;
  runs = 0;
  running = 0;
  maxRunning = 0;
  constructor(
    private readonly delayMs = 10,
    private readonly fail = false,
  ) {}
  async run(v: Vertex, inputs: readonly Result[]): Promise<Result> {
    this.runs++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.running--;
    if (this.fail) throw new Error(`op ${String(v.op["n"])} failed`);
    return { meta: { n: v.op["n"], inputs: inputs.map((i) => i.meta["n"]) } };
  }
}

function solverWith(op: OpRunner, records = new MemoryRecords(), maxParallelism = 4): Solver {
  return new Solver({ runners: [op], records, maxParallelism, snapshotExists: () => 1 });
}

test("digests cover op and inputs, not the display name", () => {
  const a = vertex({ kind: "count", n: 1 }, [], "one");
  assert.equal(vertex({ kind: "count", n: 1 }, [], "other name").digest, a.digest);
  assert.notEqual(vertex({ kind: "count", n: 2 }).digest, a.digest);
  assert.notEqual(vertex({ kind: "count", n: 1 }, [a]).digest, a.digest);
  // A vertex nested in an op counts by its digest.
  assert.equal(vertex({ kind: "count", n: a }).digest, vertex({ kind: "count", n: vertex({ kind: "count", n: 1 }, [], "renamed") }).digest);
  assert.ok(isVertex(a));
  assert.ok(!isVertex({ ...a }));
});

test("identical solves in flight are joined", async () => {
  const op = new CountingOp(30);
  const solver = solverWith(op);
  const v = vertex({ kind: "count", n: 1 });
  await Promise.all([solver.solve(v, {}), solver.solve(v, {}), solver.solve(vertex({ kind: "count", n: 1 }), {})]);
  assert.equal(op.runs, 1);
});

test("a recorded result is a cache hit; inputs of a hit are not solved", async () => {
  const op = new CountingOp();
  const records = new MemoryRecords();
  const base = vertex({ kind: "count", n: 1 });
  const top = vertex({ kind: "count", n: 2 }, [base]);
  const first = await solverWith(op, records).solve(top, {});
  assert.deepEqual(first.meta, { n: 2, inputs: [1] });
  assert.equal(op.runs, 2);
  const events: string[] = [];
  const again = await solverWith(op, records).solve(top, { progress: (e) => events.push(`${e.type}:${"cached" in e ? e.cached : ""}`) });
  assert.deepEqual(again.meta, first.meta);
  assert.equal(op.runs, 2);
  assert.deepEqual(events, ["done:true"]);
});

test("independent inputs run in parallel, bounded by max-parallelism", async () => {
  const op = new CountingOp(20);
  const inputs = Array.from({ length: 6 }, (_, n) => vertex({ kind: "count", n }));
  await solverWith(op, new MemoryRecords(), 2).solve(vertex({ kind: "count", n: 99 }, inputs), {});
  assert.equal(op.runs, 7);
  assert.equal(op.maxRunning, 2);
});

test("failures are not recorded and are reported as progress", async () => {
  const op = new CountingOp(1, true);
  const records = new MemoryRecords();
  const events: string[] = [];
  await assert.rejects(solverWith(op, records).solve(vertex({ kind: "count", n: 5 }), { progress: (e) => events.push(e.type) }), /op 5 failed/);
  assert.equal(records.map.size, 0);
  assert.deepEqual(events, ["start", "error"]);
});

test("a stale record (its snapshot is gone) is solved again", async () => {
  const op: OpRunner = { kind: "snap", cacheable: true, run: async () => ({ snapshot: "s1", meta: {} }) };
  const records = new MemoryRecords();
  let exists = true;
  const solver = new Solver({ runners: [op], records, maxParallelism: 1, snapshotExists: () => (exists ? 1 : undefined) });
  const v = vertex({ kind: "snap" });
  await solver.solve(v, {});
  exists = false;
  await solver.solve(v, {});
  assert.equal(solver.stats.executed["snap"], 2);
});

test("cancelling the only waiter cancels the solve", async () => {
  let aborted = false;
  const op: OpRunner = {
    kind: "wait",
    cacheable: true,
    run: (_v, _i, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal?.addEventListener("abort", () => {
          aborted = true;
          reject(new Error("aborted"));
        });
      }),
  };
  const solver = solverWith(op);
  const ac = new AbortController();
  const p = solver.solve(vertex({ kind: "wait" }), { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, /cancelled/);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(aborted, true);
});
