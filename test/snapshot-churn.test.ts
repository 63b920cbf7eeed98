/**
 * Snapshot identity under churn, through the official SDK: 20 rounds of 40
 * concurrent execs, half of them failing (their snapshots aborted while
 * others are prepared and committed). Every exec gives its own output or its
 * own exit code — never a filesystem or constraint error from another's
 * snapshot — and afterwards the snapshot directories on disk are exactly the
 * committed rows.
 */

import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const ROUNDS = 20;
const EXECS = 40;

type Outcome = { ok: string } | { exit: number; stdout: string } | { error: string };

describe("snapshot churn", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest` };
  });
  after(() => engine.destroy());

  test(`${ROUNDS} rounds × ${EXECS} concurrent execs, half failing: no error but the expected exit codes`, async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "churn.mjs")], {
      env: { ...env, TANTO_TEST_TAG: "churn", TANTO_TEST_ROUNDS: String(ROUNDS), TANTO_TEST_EXECS: String(EXECS) },
      timeoutMs: 300_000,
    });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    const rounds = JSON.parse(r.stdout) as Outcome[][];
    assert.equal(rounds.length, ROUNDS);
    const unexpected = rounds.flat().filter((o): o is { error: string } => "error" in o);
    assert.deepEqual(unexpected, [], "no exec failed for another reason than its own exit code");
    rounds.forEach((outcomes, round) => {
      outcomes.forEach((o, i) => {
        const line = `churn-${round}-${i}`;
        // An ExecError's output is trimmed, as Dagger trims it; a successful stdout is whole.
        assert.deepEqual(o, i % 2 === 1 ? { exit: 1, stdout: line } : { ok: `${line}\n` }, `round ${round}, exec ${i}`);
      });
    });

    // On disk, exactly the committed snapshots: nothing aborted, half-removed or shared is left.
    await engine.stop();
    const db = new BetterSqlite3(path.join(engine.root, "metadata.db"), { readonly: true });
    const rows = db.prepare("SELECT id, state FROM snapshots").all() as Array<{ id: number; state: string }>;
    db.close();
    assert.deepEqual(
      rows.filter((row) => row.state !== "committed"),
      [],
      "no active snapshot outlives the engine",
    );
    const dirs = (await readdir(path.join(engine.root, "snapshots"))).sort();
    assert.deepEqual(dirs, rows.map((row) => String(row.id)).sort());
    await engine.restart();
  });
});
