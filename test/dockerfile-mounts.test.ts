/** Dockerfile `RUN --mount` (cache, secret, bind) and dockerBuild(secrets) through the official SDK. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

describe("Dockerfile RUN --mount through the SDK", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, NODE_PATH: path.join(REPO, "node_modules") };
  });
  after(async () => {
    await engine.destroy();
  });

  test("cache, secret and bind mounts hold for their RUN only", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "docker-mounts.mjs")], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    assert.equal(out["count"], "1\n");
    assert.equal(out["token-length"], "12\n");
    assert.equal(out["secrets-seen"], "token\n");
    assert.equal(out["tok-mode"], "-r--r--r--\n");
    assert.equal(out["from-context"], "context file\n");
    assert.equal(out["from-stage"], "tool\n");
    assert.match(out["ctx-list"]!, /^Dockerfile\nsrc\nwritten\n$/);
    assert.equal(out["after"], "gone\n");
    assert.equal(out["cacheAgain"], "1\n", "the cache mount's volume outlives the build");
    assert.match(out["missingSecret"]!, /RUN --mount=type=secret,id=nope: no such secret given to dockerBuild\(secrets\)/);
    assert.match(out["badMount"]!, /--mount=type=ssh: type=ssh is not supported/);
    assert.ok(!r.stdout.includes("s3cret-value"));
  });
});
