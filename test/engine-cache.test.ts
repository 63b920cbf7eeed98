/** Query.engine and EngineCache through the official SDK, against the engine's real cache; prune from a second session. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLI, run } from "./support/engine.js";
import { sdkEngine } from "./support/sdk-engine.js";

const PRUNE = `
import { connection, dag } from "@dagger.io/dagger";
let out;
await connection(async () => {
  const cache = dag.engine().localCache();
  const before = await cache.entrySet().entryCount();
  await cache.prune();
  out = { before, after: await cache.entrySet().entryCount() };
});
console.log(JSON.stringify(out));
`;

describe("engine cache through the SDK", () => {
  const t = sdkEngine();

  test("entries of real work, the policy, pruning", async () => {
    const out = await t.program("engine-cache.mjs");
    assert.match(String(out["name"]), /^tanto-/);
    assert.equal(out["clients"], 1);
    const entries = out["entries"] as Array<[string, string, number, boolean]>;
    assert.equal(out["count"], entries.length);
    const exec = entries.find((e) => e[1] === "exec");
    assert.ok(exec, JSON.stringify(entries));
    assert.ok(exec[2] >= 300000, `the exec's snapshot holds the 300 kB it wrote: ${exec[2]}`);
    assert.equal(exec[3], true, "leased by the session that made it");
    assert.ok(entries.some((e) => e[1] === "images"));
    assert.equal(
      out["bytes"],
      entries.reduce((n, e) => n + e[2], 0),
    );
    assert.equal(out["execOnly"], entries.filter((e) => e[0].includes("exec/")).length);
    assert.deepEqual(out["policy"], [0, 0, 0]);
    assert.match(String(out["badPrune"]), /prune maxUsedSpace: invalid size "lots"/);

    // The first session has ended: its leases are gone, so prune() removes everything.
    const p = await run([CLI, "run", "node", "--input-type=module", "-e", PRUNE], { env: t.env });
    assert.equal(p.code, 0, p.stderr);
    const pruned = JSON.parse(p.stdout) as { before: number; after: number };
    assert.ok(pruned.before > 0);
    assert.equal(pruned.after, 0);
  });
});
