/**
 * git(url) with credentials through the official SDK, against real servers
 * started here on 127.0.0.1: git http-backend behind HTTP Basic auth (smart
 * and dumb HTTP) and Debian's sshd with a key held by the client's ssh-agent.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { type ClientServers, HAVE_SSHD, startGitAuthServers } from "./support/client-servers.js";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const README = "private readme\n";

describe("git credentials through the SDK", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let servers: ClientServers | undefined;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-git-auth-"));
    servers = await startGitAuthServers(dir, README);
    env = { ...engine.env, NODE_PATH: path.join(REPO, "node_modules"), ...servers.env };
  });
  after(async () => {
    await servers?.close();
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("HTTP Basic (token, header), dumb HTTP, ssh with the client's agent; commonAncestor", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "git-auth.mjs")], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out["branches"], ["feature", "main"]);
    assert.equal(out["tags"], true, "tree(includeTags) keeps the remote's tags in .git");
    assert.equal(out["noTags"], false);
    assert.equal(out["ancestor"], env["FIRST_COMMIT"], "commonAncestor of main and feature is the commit they share");
    assert.equal(out["readme"], README);
    assert.equal(out["header"], README);
    assert.equal(out["dumb"], README, "dumb HTTP serves no shallow fetch: a full one is made");
    assert.match(String(out["noAuth"]), /authentication failed for git repository ".*\/smart\/repo\.git" \(check httpAuthToken/);
    assert.match(String(out["badAuth"]), /authentication failed for git repository/);
    assert.equal(out["secretHidden"], true);
    if (HAVE_SSHD) {
      assert.equal(out["sshReadme"], README);
      assert.match(String(out["sshNoAgent"]), /authentication failed for git repository "ssh:.*" \(check sshAuthSocket\)/);
      assert.match(String(out["sshWrongHost"]), /cannot list refs of git repository .*Host key verification failed/s);
    }
  });
});
