import assert from "node:assert/strict";
import { test } from "node:test";
import { renamed } from "./registry-cache.js";

test("renamed: the exporter's snapshot names in a result's metadata become the importer's, nothing else changes", () => {
  const names = new Map([
    ["exec/ab12/m0", "sha256:1111"],
    ["exec/ab12/m2", "sha256:2222"],
  ]);
  const meta = { stdout: "exec/ab12/m0 is mentioned\n", exitCode: 0, mounts: { "0": "exec/ab12/m0", "2": "exec/ab12/m2" }, list: ["exec/ab12/m2", 3, null] };
  assert.deepEqual(renamed(meta, names), {
    stdout: "exec/ab12/m0 is mentioned\n",
    exitCode: 0,
    mounts: { "0": "sha256:1111", "2": "sha256:2222" },
    list: ["sha256:2222", 3, null],
  });
  assert.deepEqual(renamed(meta, new Map()), meta);
});
