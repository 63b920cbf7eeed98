/** Dockerfile `RUN --mount` (cache, secret, bind) and dockerBuild(secrets) through the official SDK. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sdkEngine } from "./support/sdk-engine.js";

describe("Dockerfile RUN --mount through the SDK", () => {
  const t = sdkEngine();

  test("cache, secret and bind mounts hold for their RUN only", async () => {
    const out = await t.program<Record<string, string>>("docker-mounts.mjs");
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
    assert.ok(!JSON.stringify(out).includes("s3cret-value"));
  });
});
