/**
 * tanto's Go module generator (engine-image/go-codegen): its own Go tests
 * (names, pragmas, a module's source through parse and emit), run with the
 * host's Go toolchain. Skipped without one.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { REPO, run } from "./support/engine.js";

const hasGo = spawnSync("go", ["version"]).status === 0;

test("go test of engine-image/go-codegen", { skip: hasGo ? false : "no go on PATH", timeout: 300_000 }, async () => {
  const r = await run(["go", "test", "-count=1", "./..."], {
    cwd: path.join(REPO, "engine-image", "go-codegen"),
    env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-buildvcs=false" },
    timeoutMs: 300_000,
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
});
