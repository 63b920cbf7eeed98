/**
 * Unix sockets of the client in containers, against a real dockerd (a
 * private one started with hack/dockerd): the docker CLI in a busybox
 * container talks to it through the forwarded socket.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const MINUTES = 60_000;
const HACK = path.join(REPO, "hack");

describe("unix sockets through the SDK", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let workdir: string;
  let dockerDir: string;
  let sock = "";

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    workdir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-sock-"));
    await fs.copyFile("/usr/local/bin/docker", path.join(workdir, "docker"));
    // A short path: dockerd's containerd socket lives below it (108-byte limit).
    dockerDir = await fs.mkdtemp(path.join(os.tmpdir(), "tds-"));
    const started = await run([path.join(HACK, "dockerd"), "start", dockerDir], { timeoutMs: 2 * MINUTES });
    assert.equal(started.code, 0, `hack/dockerd start: ${started.stderr.slice(-2000)}`);
    sock = /^DOCKER_HOST=unix:\/\/(.+)$/m.exec(started.stdout)?.[1] ?? "";
    assert.ok(sock, started.stdout);
    env = {
      ...engine.env,
      TANTO_TEST_IMAGE: `${registry}/busybox:latest`,
      NODE_PATH: path.join(REPO, "node_modules"),
      DOCKER_SOCK: sock,
      DOCKER_HOST: `unix://${sock}`,
    };
  });
  after(async () => {
    await engine.destroy();
    if (dockerDir) {
      const r = await run([path.join(HACK, "dockerd"), "purge", dockerDir], { timeoutMs: 2 * MINUTES });
      if (r.code !== 0) process.stderr.write(`hack/dockerd purge ${dockerDir}: ${r.stderr}\n`);
    }
    await fs.rm(workdir, { recursive: true, force: true });
  });

  test("the docker CLI in a container reaches the client's dockerd through withUnixSocket; exportImage loads into it, containerImage reads from it", {
    timeout: 5 * MINUTES,
  }, async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "sockets.mjs")], { env, cwd: workdir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    const host = await run(["docker", "-H", `unix://${sock}`, "info", "--format", "{{.ID}} {{.OSType}}"]);
    assert.equal(out["info"], host.stdout, "the container's docker CLI sees the same daemon");
    assert.equal(out["twoConnections"], "linux\n0\n");
    assert.equal(out["owned"], "nobody socket\n");
    assert.equal(out["without"], "absent\n");
    const ran = await run(["docker", "-H", `unix://${sock}`, "run", "--rm", "--network", "none", "tanto-test/exported:1", "/hello.txt"], {
      timeoutMs: 2 * MINUTES,
    });
    assert.equal(ran.stdout, "exported\n", `exportImage loaded the image into the client's Docker: ${ran.stderr}`);
    assert.deepEqual(out["fromDocker"], ["exported\n", ["cat"]], "Host.containerImage reads the image back from the client's Docker");
    assert.match(String(out["noImage"]), /image "tanto-test\/absent:1" not found in the client's Docker/);
    assert.match(String(out["missing"]), /withUnixSocket \/var\/run\/docker\.sock: cannot connect to the client's unix socket \/nonexistent\/docker\.sock/);
  });
});
