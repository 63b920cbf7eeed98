/** Annotations and HEALTHCHECK (checked in the exported image), Container.up, and pulls and pushes through a registry service, through the official SDK. */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { makeRepo } from "./support/git-servers.js";

describe("container image settings through the SDK", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let workdir: string;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, NODE_PATH: path.join(REPO, "node_modules") };
    workdir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-cx-"));
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(workdir, { recursive: true, force: true });
  });

  test("withAnnotation and withDockerHealthcheck reach the manifest and config; import reads them back", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "container-extras.mjs")], { env, cwd: workdir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out["hc"], [["wget", "-q", "http://localhost/"], false, "10s", "1m30s", "0s", 4]);
    assert.deepEqual(out["annotations"], { "org.example.one": "1" });
    assert.deepEqual(out["configHealthcheck"], { Test: ["CMD", "wget", "-q", "http://localhost/"], Interval: 10e9, Timeout: 90e9, Retries: 4 });
    assert.deepEqual(out["imported"], [["wget", "-q", "http://localhost/"], "10s", "1m30s", 4]);
    assert.deepEqual(out["shellTest"], ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]);
    assert.equal(out["removed"], null);
    assert.equal(out["none"], null);
    const vol = out["volatile"] as Record<string, string>;
    assert.match(vol["v1"]!, /^one [0-9a-f-]{36}\n$/);
    assert.equal(vol["v2"], vol["v1"], "a volatile variable is not part of the cache key: the second exec is a cache hit");
    assert.match(vol["fresh"]!, /^three w [0-9a-f-]{36}\n$/);
    assert.equal(vol["gone"], "[]\n");
    assert.match(String(out["badDuration"]), /withDockerHealthcheck interval: invalid duration "soon"/);
    assert.deepEqual(out["fromKeeps"], {
      keep: "1",
      path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      label: "1",
      ports: [9999],
      mounted: "mounted",
      entrypoint: [],
    });
  });

  test("Container.up forwards the container's port to the client", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const upPort = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "container-up.mjs")], { env: { ...env, TANTO_UP_PORT: String(upPort) } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { body: "up from a container\n" });
  });

  test("from and publish with registryService (a registry run as a service), http and git with experimentalServiceHost", async () => {
    const bare = await makeRepo(path.join(workdir, "git-served"), "served by a service\n");
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "registry-service.mjs")], { env: { ...env, GIT_BARE: bare } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    assert.match(out["published"]!, /^registry\.invalid:5000\/tanto\/pushed:v1@sha256:[a-f0-9]{64}$/);
    assert.equal(out["pulled"], `marker ${out["nonce"]}\n`);
    assert.equal(out["byDigest"], `marker ${out["nonce"]}\n`);
    assert.match(out["withoutService"]!, /registry\.invalid/, "without the service the address's host is used, and resolves nowhere");
    assert.match(out["noPort"]!, /registryService: the address's registry "registry\.invalid" names no port and the service exposes none/);
    assert.equal(out["httpViaService"], `served ${out["nonce"]}\n`);
    assert.notEqual(out["httpWithoutService"], "no error", "the service's hostname resolves only with the service given");
    assert.deepEqual(out["gitBranches"], ["feature", "main"]);
    assert.equal(out["gitReadme"], "served by a service\n");
    assert.deepEqual(out["gitFeature"], ["README", "feature.txt"]);
    assert.match(out["gitWithout"]!, /cannot list refs of git repository/);
  });
});
