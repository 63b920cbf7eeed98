import assert from "node:assert/strict";
import { test } from "node:test";
import type { Digest } from "../oci/digest.js";
import type { CacheRecords } from "./cache-records.js";
import { recordKey } from "./cache-version.js";
import { Solver } from "./solver.js";
import type { OpRunner, Result, SolveContext, Vertex } from "./types.js";
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

/** Snapshot ids as the snapshotter gives them: one per name, never reused. */
function snapshotIds(): (name: string) => number {
  const ids = new Map<string, number>();
  return (name) => ids.get(name) ?? ids.set(name, ids.size + 1).get(name)!;
}

function solverWith(op: OpRunner, records = new MemoryRecords(), maxParallelism = 4): Solver {
  return new Solver({ runners: [op], records, maxParallelism, snapshotExists: () => 1 });
}

/** An op that waits until released (or aborted), counting runs and aborts. */
class GateOp implements OpRunner {
  readonly cacheable = true;
  runs = 0;
  aborts = 0;
  sessions: unknown[] = [];
  #open: Array<() => void> = [];
  constructor(readonly kind = "gate") {}
  run(v: Vertex, _inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    this.runs++;
    const run = this.runs;
    return new Promise((resolve, reject) => {
      ctx.signal?.addEventListener("abort", () => {
        this.aborts++;
        reject(new Error("aborted"));
      });
      this.#open.push(() => {
        this.sessions.push(ctx.session);
        resolve({ snapshot: `snap-${String(v.op["n"])}`, meta: { run } });
      });
    });
  }
  release(): void {
    for (const open of this.#open.splice(0)) open();
  }
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

test("each waiter of a joined solve gets its own progress and leases, a late one what it missed", async () => {
  const op = new GateOp();
  const solver = new Solver({ runners: [op], records: new MemoryRecords(), maxParallelism: 2, snapshotExists: () => 1 });
  const seen = { a: [] as string[], b: [] as string[] };
  const leased = { a: [] as string[], b: [] as string[] };
  const ctxOf = (who: "a" | "b"): SolveContext => ({
    session: { id: who },
    progress: (e) => seen[who].push(`${e.type}:${"name" in e ? e.name : ""}`),
    lease: (s) => leased[who].push(s),
  });
  const input = vertex({ kind: "gate", n: 1 }, [], "input");
  const top = vertex({ kind: "gate", n: 2 }, [input], "top");
  const a = solver.solve(top, ctxOf("a"));
  await tick();
  op.release(); // the input is done; top starts
  await tick();
  const b = solver.solve(top, ctxOf("b"));
  await tick();
  op.release();
  await Promise.all([a, b]);
  assert.equal(op.runs, 2);
  assert.deepEqual(seen.a, ["start:input", "done:input", "start:top", "done:top"]);
  assert.deepEqual(seen.b, ["start:input", "done:input", "start:top", "done:top"]);
  assert.deepEqual(leased.a, ["snap-1", "snap-2"]);
  assert.deepEqual(leased.b, ["snap-1", "snap-2"]);
});

test("one session waiting twice (directly and through another solve) sees each event once", async () => {
  const op = new CountingOp(5);
  const solver = solverWith(op);
  const events: string[] = [];
  const session = { id: "s" };
  const ctx = (): SolveContext => ({ session, progress: (e) => events.push(`${e.type}:${"name" in e ? e.name : ""}`) });
  const input = vertex({ kind: "count", n: 1 }, [], "input");
  const top = vertex({ kind: "count", n: 2 }, [input], "top");
  await Promise.all([solver.solve(top, ctx()), solver.solve(input, ctx())]);
  assert.deepEqual(events, ["start:input", "done:input", "start:top", "done:top"]);
});

test("the solve goes on with the waiters left: their session serves the op", async () => {
  const op = new GateOp();
  const solver = solverWith(op);
  const v = vertex({ kind: "gate", n: 1 });
  const acA = new AbortController();
  const a = solver.solve(v, { session: "A", signal: acA.signal });
  const b = solver.solve(v, { session: "B" });
  await tick();
  acA.abort();
  await assert.rejects(a, /cancelled/);
  op.release();
  assert.deepEqual((await b).meta, { run: 1 });
  assert.equal(op.aborts, 0);
  assert.deepEqual(op.sessions, ["B"]);
});

test("a caller arriving after the last waiter cancelled starts afresh and gets a result", async () => {
  const op = new GateOp();
  const solver = solverWith(op);
  const v = vertex({ kind: "gate", n: 1 });
  const ac = new AbortController();
  const first = solver.solve(v, { signal: ac.signal });
  await tick();
  ac.abort();
  const second = solver.solve(v, {});
  await assert.rejects(first, /cancelled/);
  await tick();
  op.release();
  assert.deepEqual((await second).meta, { run: 2 });
  assert.equal(op.runs, 2);
  assert.equal(op.aborts, 1);
});

test("with max-parallelism 1, an op waiting on a nested solve or a service gives its slot back", async () => {
  const leaf = new CountingOp(5);
  let solver!: Solver;
  const inner = vertex({ kind: "count", n: 7 });
  const outer: OpRunner = {
    kind: "outer",
    cacheable: true,
    run: async (_v, _i, ctx) => {
      // A nested solve with the op's own context (as the service manager does).
      const nested = await solver.solve(inner, ctx);
      // Waiting on something else that needs a slot, through outsideSlot.
      const other = await ctx.outsideSlot!(() => solver.solve(vertex({ kind: "count", n: 8 }), {}));
      return { meta: { nested: nested.meta["n"], other: other.meta["n"] } };
    },
  };
  solver = new Solver({ runners: [leaf, outer], records: new MemoryRecords(), maxParallelism: 1, snapshotExists: () => 1 });
  const r = await Promise.race([solver.solve(vertex({ kind: "outer" }), {}), tick(2000).then(() => "deadlock")]);
  assert.deepEqual(typeof r === "string" ? r : r.meta, { nested: 7, other: 8 });
  assert.equal(leaf.maxRunning, 1);
});

test("content keys: inputs made differently but equal in content share the op's result", async () => {
  const op = new CountingOp(1);
  const maker: OpRunner = { kind: "make", cacheable: true, run: async (v) => ({ snapshot: `made-${String(v.op["recipe"])}`, meta: {} }) };
  const content: Record<string, string> = { "made-a": "sha256:same", "made-b": "sha256:same", "made-c": "sha256:other" };
  let checksummed = 0;
  const withContent: OpRunner = { ...op, kind: "count", cacheable: true, run: (v, i) => op.run(v, i), contentInputs: () => [{ input: 0, path: "/" }] };
  const records = new MemoryRecords();
  const solver = new Solver({
    runners: [maker, withContent],
    records,
    maxParallelism: 2,
    snapshotExists: snapshotIds(),
    checksums: {
      checksum: async (name) => {
        checksummed++;
        return content[name ?? ""] as never;
      },
    },
  });
  const on = (recipe: string): Vertex => vertex({ kind: "count", n: 1 }, [vertex({ kind: "make", recipe })]);
  await solver.solve(on("a"), {});
  await solver.solve(on("b"), {});
  assert.equal(op.runs, 1);
  assert.equal(solver.stats.contentHits, 1);
  await solver.solve(on("c"), {});
  assert.equal(op.runs, 2);
  // The recipe key now answers "b" without a checksum.
  const before = checksummed;
  await solver.solve(on("b"), {});
  assert.equal(checksummed, before);
  assert.equal(op.runs, 2);
});

test("result keys: an input answered by content leads to the results recorded after it, whatever its recipe", async () => {
  // make (a source) → copy (keyed by its source's content) → count (keyed by recipe and by its input's result).
  const content: Record<string, string> = { "made-a": "sha256:same", "made-b": "sha256:same", "made-c": "sha256:other" };
  const maker: OpRunner = { kind: "make", cacheable: true, run: async (v) => ({ snapshot: `made-${String(v.op["recipe"])}`, meta: {} }) };
  let copies = 0;
  const copier: OpRunner = {
    kind: "copy",
    cacheable: true,
    run: async () => ({ snapshot: `copied-${++copies}`, meta: {} }),
    contentInputs: () => [{ input: 0, path: "/src" }],
  };
  const op = new CountingOp(1);
  const solver = new Solver({
    runners: [maker, copier, op],
    records: new MemoryRecords(),
    maxParallelism: 2,
    snapshotExists: snapshotIds(),
    checksums: { checksum: async (name) => content[name ?? ""] as never },
  });
  const top = (recipe: string): Vertex => vertex({ kind: "count", n: 1 }, [vertex({ kind: "copy", to: "/dst" }, [vertex({ kind: "make", recipe })])]);
  await solver.solve(top("a"), {});
  assert.deepEqual([copies, op.runs], [1, 1]);
  await solver.solve(top("b"), {});
  assert.deepEqual([copies, op.runs], [1, 1], "the copy by content, then the count by its input's result");
  assert.equal(solver.stats.contentHits, 2);
  await solver.solve(top("c"), {});
  assert.deepEqual([copies, op.runs], [2, 2], "other content runs both");
});

test("record keys carry the cache version: a record under a bare digest is not answered", async () => {
  const op = new CountingOp(1);
  const records = new MemoryRecords();
  const v = vertex({ kind: "count", n: 3 });
  records.put(v.digest, "count", { meta: { n: "old format" } });
  const r = await solverWith(op, records).solve(v, {});
  assert.equal(op.runs, 1);
  assert.deepEqual(r.meta, { n: 3, inputs: [] });
  assert.ok(records.map.has(recordKey(v.digest)));
  assert.notEqual(recordKey(v.digest), v.digest);
});

test("remote records: every run is offered as recorded, only the top-level result (or what an unrecorded one is taken from) as requested", async () => {
  const offered: { recorded: unknown[]; requested: unknown[] } = { recorded: [], requested: [] };
  const remote = {
    lookup: async () => undefined,
    recorded: (_key: string, v: Vertex) => void offered.recorded.push(v.op["n"]),
    requested: (key: string, v: Vertex, result: Result) => {
      assert.equal(key, recordKey(v.digest));
      offered.requested.push([v.op["n"], result.meta["n"]]);
      // A result this store does not keep (as a registry does not keep an image tarball).
      return v.op["n"] !== "kept-not";
    },
  };
  const pick: OpRunner = { kind: "pick", cacheable: false, run: async (_v, inputs) => ({ meta: { picked: inputs[0]?.meta["n"] } }) };
  const op = new CountingOp(1);
  const solver = new Solver({ runners: [op, pick], records: new MemoryRecords(), maxParallelism: 4, snapshotExists: () => 1, remote });
  const a = vertex({ kind: "count", n: "a" }, [], "a");
  const b = vertex({ kind: "count", n: "b" }, [a], "b");
  const c = vertex({ kind: "count", n: "c" }, [b], "c");
  await solver.solve(c, {});
  assert.deepEqual(offered.recorded.sort(), ["a", "b", "c"]);
  assert.deepEqual(offered.requested, [["c", "c"]]);

  // Answered from the local cache: requested again (the store keeps it once per repository).
  await solver.solve(b, {});
  assert.deepEqual(offered.requested.at(-1), ["b", "b"]);
  assert.equal(op.runs, 3);

  // A top-level vertex that is not recorded: the recorded one it is taken from.
  await solver.solve(vertex({ kind: "pick" }, [vertex({ kind: "pick" }, [c], "inner")], "outer"), {});
  assert.deepEqual(offered.requested.at(-1), ["c", "c"]);
  assert.equal(offered.recorded.length, 3);

  // One the store does not keep: the inputs it is made from are offered instead.
  await solver.solve(vertex({ kind: "count", n: "kept-not" }, [a, b], "tarball"), {});
  assert.deepEqual(offered.requested.slice(-3), [
    ["kept-not", "kept-not"],
    ["a", "a"],
    ["b", "b"],
  ]);

  // A session's own remote records stand in for the engine's.
  const own: string[] = [];
  const session = { remoteCache: { ...remote, requested: (_k: string, v: Vertex) => own.push(String(v.op["n"])) > 0 } };
  await solver.solve(a, { session });
  assert.deepEqual(own, ["a"]);
  assert.equal(offered.requested.length, 6);
});
