import assert from "node:assert/strict";
import { test } from "node:test";
import { opFacets } from "../solver/op-facets.js";
import { vertex } from "../solver/vertex.js";
import { describeChanges } from "./explain-words.js";

const base = vertex({ kind: "image", ref: "r/busybox:1@sha256:" + "a".repeat(64), platform: "linux/amd64" }, [], "from busybox");
const exec = (env: string[], secret: string, contentsOf: string) => {
  const file = vertex(
    { kind: "file", base: true, actions: [{ action: "mkfile", path: "/app/conf", contents: contentsOf, permissions: 0o644 }] },
    [base],
    "withNewFile",
  );
  return vertex(
    {
      kind: "exec",
      rootfs: true,
      args: ["make"],
      env,
      secretEnv: [{ name: "TOKEN", secret: { name: "tok", mac: secret } }],
      cwd: "/",
      user: "",
      mounts: [],
      platform: "linux/amd64",
      expect: "SUCCESS",
    },
    [file],
    "exec make",
  );
};

test("facets: env by name, secrets by name and HMAC, files by content digest, inputs by digest", () => {
  const f = opFacets(exec(["A=1", "B=2"], "m1", "x".repeat(500)));
  assert.equal(f["env:A"], "1");
  assert.equal(f["env:B"], "2");
  assert.equal(f["secret:TOKEN"], "tok@m1");
  assert.equal(f["args"], '["make"]');
  assert.match(f["input:0"]!, /^sha256:/);
  const file = opFacets(exec([], "m1", "x").inputs[0]!);
  assert.match(file["file:/app/conf"]!, /^sha256:[0-9a-f]{64} \{"action":"mkfile","path":"\/app\/conf","permissions":420\}$/);
});

test("what differs, in words: env added/changed/removed, a secret's version, an input that re-runs", () => {
  const before = exec(["A=1", "C=3"], "m1", "x");
  const now = exec(["A=2", "B=2"], "m2", "x");
  const changes = describeChanges(now, opFacets(before), opFacets(now), { inputRuns: [0], listing: () => undefined });
  assert.deepEqual(
    changes.map((c) => c.says),
    ['env A changed: "1" → "2"', 'env B was added ("2")', 'env C was removed (was "3")', "secret variable TOKEN has another value (version m1 → m2)"],
  );
  // The withNewFile content changed: the exec's rootfs input differs, and that op re-runs.
  const edited = exec(["A=1", "C=3"], "m1", "y");
  const [rootfs] = describeChanges(edited, opFacets(before), opFacets(edited), { inputRuns: [4], listing: () => undefined });
  assert.equal(rootfs?.says, "its input rootfs re-runs (#4)");
  const file = describeChanges(edited.inputs[0]!, opFacets(before.inputs[0]!), opFacets(edited.inputs[0]!), { inputRuns: [0], listing: () => undefined });
  assert.match(file[0]!.says, /^file \/app\/conf \(withNewFile\) changed: content sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}$/);
});
