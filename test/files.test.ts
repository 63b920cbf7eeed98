/**
 * Files through the official SDK: host directories with filters, exports to
 * the client, directory operations, mounted directories.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

describe("files through the SDK", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let workdir: string;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, NODE_PATH: path.join(REPO, "node_modules") };
    workdir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-files-"));
    await fs.writeFile(path.join(workdir, "a.txt"), "a\n");
    await fs.mkdir(path.join(workdir, "sub"));
    await fs.writeFile(path.join(workdir, "sub", "b.txt"), "b\n");
    await fs.writeFile(path.join(workdir, "debug.log"), "log\n");
    await fs.mkdir(path.join(workdir, "node_modules"));
    await fs.writeFile(path.join(workdir, "node_modules", "x.js"), "x\n");
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(workdir, { recursive: true, force: true });
  });

  test("host directories in, exports out, directory operations", async () => {
    const program = path.join(REPO, "test", "sdk", "files.mjs");
    const r = await run([CLI, "run", "node", program], { env, cwd: workdir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out["tree"], ".\n./a.txt\n./sub\n./sub/b.txt\n");
    assert.deepEqual(out["included"], ["sub/"]);
    assert.equal(out["hostFile"], "a\n");

    assert.equal(out["exportedDir"], path.join(workdir, "exported"));
    assert.equal(await fs.readFile(path.join(workdir, "exported", "hello.txt"), "utf8"), "hi\n");
    assert.equal((await fs.stat(path.join(workdir, "exported", "hello.txt"))).mode & 0o777, 0o600);
    assert.ok((await fs.stat(path.join(workdir, "exported", "empty"))).isDirectory());
    assert.equal(await fs.readFile(path.join(workdir, "exported", "deep/er/x.txt"), "utf8"), "x\n");
    assert.equal(out["exportedFile"], path.join(workdir, "passwd.txt"));
    assert.match(await fs.readFile(path.join(workdir, "passwd.txt"), "utf8"), /^root:/);

    assert.deepEqual(out["mountEntries"], ["in.txt", "out.txt"]);
    assert.equal(out["mountOut"], "in\nmore\n");
    assert.equal(out["readOnly"], "read-only\n");
    assert.deepEqual(out["dirEntries"], ["a/", "b/", "link"]);
    assert.deepEqual(out["aEntries"], ["1.txt"]);
    assert.deepEqual(out["glob"], ["a/1.txt", "b/3.txt"]);
    assert.equal(out["linkContents"], "1");
    assert.equal(out["mountStat"], 9);
    assert.deepEqual(out["mountExists"], [true, false]);
    assert.deepEqual(out["underMountEntries"], ["a.txt", "copied.txt", "link", "new.txt"]);
    assert.equal(out["mountSeenByExec"], "new in mountnew in mountcopieda.txt\ncopied.txt\nlink\nnew.txt\n");
    assert.equal(out["rootfsUntouched"], "0\n", "the changes went to the mounted directory, not the rootfs");
    assert.equal(out["mountRedirect"], "redirected\n");
    assert.equal(out["mountStdin"], "mounted a");
    assert.deepEqual(out["withFileIntoDir"], ["d/", "d/x.txt"]);
    assert.equal(out["ctrWithFileIntoDir"], "x in dir");
    assert.deepEqual(out["withoutWildcard"], ["s1/", "s1/a.txt", "s2/", "s2/b.md", "z.md"]);
    assert.deepEqual(out["withoutFilesWildcard"], ["s1/", "s1/a.txt", "s2/", "x.txt", "y.txt"]);
    assert.deepEqual(out["withoutDirWildcard"], ["x.txt", "y.txt", "z.md"]);
    assert.deepEqual(out["withoutNoMatch"], ["s1/", "s2/", "x.txt", "y.txt", "z.md"]);
    assert.deepEqual(out["ctrWithoutWildcard"], ["s1/", "s2/", "x.txt", "y.txt", "z.md"]);
    assert.deepEqual(out["copied"], ["copy/", "copy/a/", "copy/a/1.txt", "copy/link"]);
    assert.deepEqual(out["withFile"], ["renamed.txt"]);
    assert.equal(out["fileName"], "three.txt");
    assert.equal(out["digestStable"], true);
    assert.equal(out["owner"], "65534\n");
    assert.deepEqual(out["exists"], [true, false]);
    assert.deepEqual(out["diff"], ["changed.txt", "new/", "new/x.txt"]);
    assert.equal(out["rootfsEntries"], true);

    const missing = out["missing"] as Record<string, unknown>;
    for (const k of ["file", "directory", "afterWithout", "entries", "stat", "ctrFile", "ctrDirectory", "mountMissingDir", "mountMissingFile"]) {
      assert.match(String(missing[k]), /no such file or directory/, `${k}: ${String(missing[k])}`);
    }
    assert.match(String(missing["file"]), /lstat \/nope\.txt: no such file or directory/);
    assert.match(
      String(missing["mountMissingDir"]),
      /lstat \/nope: no such file or directory/,
      "the missing source fails where it is named, not as an empty mount",
    );
    assert.match(String(missing["fileIsDir"]), /path \/sub is a directory, not a file/);
    assert.match(String(missing["dirIsFile"]), /path \/a\.txt is a file, not a directory/);
    assert.match(String(missing["underFile"]), /mkdir a\.txt: not a directory/);
    assert.deepEqual(missing["glob"], []);
    assert.equal(missing["exists"], false);
    assert.deepEqual(missing["withoutFile"], ["a.txt", "sub/"]);
    assert.deepEqual(missing["withoutDirectory"], ["a.txt", "sub/"]);
    assert.deepEqual(missing["withoutFiles"], ["a.txt", "sub/"]);
    assert.equal(missing["ctrWithout"], 0);
    assert.equal(missing["workdir"], "/new/deep\n", "a missing workdir is made for the command, as runc makes it");
  });

  test("an export path that climbs out of the workdir is refused", async () => {
    const doc = '{ directory { withNewFile(path: "x", contents: "x") { export(path: "../escaped") } } }';
    const r = await run([CLI, "query", doc], { env, cwd: workdir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /outside the session's working directory/);
    await assert.rejects(fs.stat(path.join(path.dirname(workdir), "escaped")));
  });

  test("a missing host path is an error naming it", async () => {
    const r = await run([CLI, "query", '{ host { directory(path: "nope") { entries } } }'], { env, cwd: workdir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"nope" not found on the client .* \(at host\.directory\)/);
  });
});
