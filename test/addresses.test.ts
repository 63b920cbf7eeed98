/** Query.address through the official SDK: image, client paths, secret URI, service, socket, git URL with #ref. */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { makeRepo, startGitHttp } from "./support/git-servers.js";

describe("addresses through the SDK", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let close: () => Promise<void>;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-addr-"));
    await makeRepo(path.join(dir, "git"), "from git\n");
    const server = await startGitHttp(path.join(dir, "git"), "", "");
    close = server.close;
    await fs.writeFile(path.join(dir, "a.txt"), "a\n");
    await fs.writeFile(path.join(dir, "b.md"), "b\n");
    await fs.writeFile(path.join(dir, ".gitignore"), "*.md\n");
    env = {
      ...engine.env,
      TANTO_TEST_IMAGE: `${registry}/busybox:latest`,
      NODE_PATH: path.join(REPO, "node_modules"),
      ADDR_SECRET: "s3",
      GIT_HTTP: `http://127.0.0.1:${server.port}`,
    };
  });
  after(async () => {
    await close();
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("each type reads the address its own way", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "addresses.mjs")], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out["value"], "./a.txt");
    assert.equal(out["container"], "ran\n");
    assert.deepEqual(out["directory"], ["a.txt"]);
    assert.equal(out["file"], "a\n");
    assert.equal(out["fileIncluded"], "a\n");
    assert.match(String(out["fileExcluded"]), /host path "a\.txt": no such file or directory \(left out by include\/exclude\/gitignore\)/);
    assert.match(String(out["fileNotIncluded"]), /host path "b\.md": no such file or directory/);
    assert.match(String(out["fileIgnored"]), /host path "b\.md": no such file or directory/);
    assert.equal(out["fileNotIgnored"], "a\n");
    assert.match(String(out["urlFiltered"]), /include, exclude and gitignore select files of a client directory, not of a URL/);
    assert.equal(out["secret"], "s3");
    assert.equal(out["service"], "from the client\n");
    assert.equal(out["socket"], true);
    assert.equal(out["gitUrl"], `${env["GIT_HTTP"]}/smart/repo.git`);
    assert.equal(out["gitRef"], 40);
    assert.equal(out["gitDir"], "from git\n");
    assert.match(String(out["badService"]), /address "nope" is not a service address: want tcp:\/\/HOST:PORT/);
  });
});
