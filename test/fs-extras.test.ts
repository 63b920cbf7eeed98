/** Directory/File helpers, changesets, JSON values, env files and errors through the official SDK. */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { sdkEngine } from "./support/sdk-engine.js";

describe("directory and file helpers through the SDK", () => {
  const t = sdkEngine();

  test("filter, chown, search, findUp, patches, changesets, replace, JSON, env files, errors", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-fsx-"));
    const out = await t.program("fs-extras.mjs", { cwd: workdir });
    assert.deepEqual(out["filtered"], ["a.txt", "src/", "src/b.go", "src/deep/", "src/deep/c.txt"]);
    assert.deepEqual(out["excluded"], [".gitignore", ".hidden", "a.txt", "build/", "x.log"]);
    assert.deepEqual(out["gitignored"], [".gitignore", ".hidden", "a.txt", "src/"]);
    assert.equal(out["chown"], "1234:5678 /d/src\n1234:5678 /d/src/b.go\n0:0 /d/a.txt\n");
    assert.equal(out["fileChown"], "42:43\n");

    assert.deepEqual(out["search"], [
      [".hidden", 1, "hello hidden\n"],
      ["a.txt", 1, "hello world\n"],
      ["a.txt", 2, "second hello\n"],
      ["build/out.txt", 1, "hello build\n"],
      ["x.log", 1, "hello log\n"],
    ]);
    assert.deepEqual(out["submatches"], [["hello", 0, 5]]);
    assert.equal(out["searchOffset"], 12);
    assert.deepEqual(out["searchSkip"], ["a.txt"]);
    assert.equal(out["searchLiteral"], 1);
    assert.deepEqual(out["searchPaths"], ["src/b.go"]);
    assert.deepEqual(out["fileSearch"], [1]);

    assert.equal(out["findUp"], "src/b.go");
    assert.equal(out["findUpRoot"], ".gitignore");
    assert.equal(out["findUpNone"], null);

    assert.equal(out["patchedA"], "hello world\nsecond patched\n");
    assert.equal(out["patchedNew"], "created\n");
    assert.equal(out["patchFile"], "created\n");
    assert.match(String(out["badPatch"]), /withPatch: patch is not a valid git-style diff/);
    assert.match(String(out["conflict"]), /withPatch: patch does not apply: .*a\.txt/);

    assert.deepEqual(out["added"], ["added/", "added/n.txt"]);
    assert.deepEqual(out["modified"], ["a.txt"]);
    assert.deepEqual(out["removed"], ["src/deep/"]);
    assert.equal(out["isEmpty"], false);
    assert.equal(out["emptyCs"], true);
    assert.match(String(out["patch"]), /^diff --git a\/a\.txt b\/a\.txt\n/);
    assert.match(String(out["patch"]), /\ndiff --git a\/added\/n\.txt b\/added\/n\.txt\nnew file mode 100644\n/);
    assert.match(String(out["patch"]), /\ndiff --git a\/src\/deep\/c\.txt b\/src\/deep\/c\.txt\ndeleted file mode 100644\n/);
    assert.deepEqual(out["stats"], [
      ["a.txt", "MODIFIED", 1, 2],
      ["added/n.txt", "ADDED", 1, 0],
      ["src/deep/c.txt", "REMOVED", 0, 1],
    ]);
    assert.deepEqual(out["layer"], ["a.txt", "added/", "added/n.txt"]);
    assert.deepEqual(out["appliedEntries"], ["a.txt", "added/n.txt", "build/out.txt"]);
    assert.equal(out["appliedA"], "changed\n");
    assert.equal(out["roundTrip"], "changed\n");
    assert.equal(out["csId"], 2);
    const ws = path.join(workdir, "ws");
    assert.equal(out["csExport"], ws);
    assert.equal(await fs.readFile(path.join(ws, "a.txt"), "utf8"), "changed\n");
    assert.equal(await fs.readFile(path.join(ws, "added", "n.txt"), "utf8"), "n\n");
    assert.equal(await fs.stat(path.join(ws, "src", "deep")).catch(() => "gone"), "gone", "Changeset.export removes what was removed");
    assert.equal(await fs.readFile(path.join(ws, "src", "b.go"), "utf8"), "package b\n// TODO fix(x)\n", "and leaves the rest");
    await fs.rm(workdir, { recursive: true, force: true });
    assert.deepEqual(out["emptyChangeset"], [true, ["a.txt", "build/out.txt", "src/deep/c.txt"]]);

    assert.deepEqual(out["queryFile"], ["r.txt", "one two one\nthree one\n", 0o600]);
    assert.equal(out["replacedAll"], "1 two 1\nthree 1\n");
    assert.equal(out["replacedFrom"], "one two one\nthree 1\n");
    assert.equal(out["replacedOnly"], "one 2 one\nthree one\n");
    assert.match(String(out["replaceMany"]), /"one" found 3 times/);
    assert.match(String(out["replaceNone"]), /"zzz" not found/);

    assert.deepEqual(out["jsonFields"], ["a", "s", "t"]);
    assert.equal(out["jsonB"], "[1,2,3]");
    assert.equal(out["jsonItem"], 3);
    assert.equal(out["jsonStr"], "str");
    assert.equal(out["jsonBool"], true);
    assert.deepEqual(JSON.parse(String(out["jsonSet"])), { a: { b: [1, 2, 3], c: "x" }, s: "str", t: true });
    assert.equal(out["jsonPretty"], '{\n  "k": 1\n}');
    assert.match(String(out["jsonBad"]), /asJSON \/bad\.json: not valid JSON/);

    assert.deepEqual(out["envVars"], ["A=1", "B=two words", "C=x 1 y", "APP_TOKEN=t", "APP_NAME=n"]);
    assert.equal(out["envRaw"], '"x $A y"');
    assert.equal(out["envGet"], "x 1 y");
    assert.deepEqual(out["envExists"], [true, false]);
    assert.deepEqual(out["envNs"], ["TOKEN=t", "NAME=n"]);
    assert.equal(out["envFile"], "B='two words'\nC=\"x $A y\"\nAPP_TOKEN=t\nAPP_NAME=n\nD='has space'\n");
    assert.equal(out["envInContainer"], "two words|has space|unset\n");
    assert.equal(out["queryEnv"], "1");
    assert.match(String(out["envBad"]), /bad\.env: line 2 is not NAME=value: "not a line"/);

    assert.deepEqual(out["error"], ["it broke", "code=42"]);
    assert.match(String(out["withError"]), /custom failure/);
    assert.match(String(out["containerError"]), /container failure/);
  });
});
