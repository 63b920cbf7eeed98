/**
 * withRegistryAuth: a publish logs in with the container's credentials (the
 * password a secret), and only that publish does.
 */

import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

/** A Basic-auth front for a real registry: checks the login, forwards everything. */
function authProxy(upstream: string, username: string, password: string): Promise<http.Server> {
  const expected = "Basic " + Buffer.from(`${username}:${password}`).toString("base64");
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="tanto-test"', "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      req.resume();
      return;
    }
    const [host, port] = upstream.split(":");
    const forward = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } }, (up) => {
      const headers = { ...up.headers };
      const self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (typeof headers.location === "string") headers.location = headers.location.replace(upstream, self);
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("registry auth", () => {
  let engine: TestEngine;
  let proxy: http.Server;
  let image: string;

  before(async () => {
    const registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    engine = await startEngine({ registry });
    proxy = await authProxy(registry, "tanto", "hunter2");
  });
  after(async () => {
    proxy.close();
    await engine.destroy();
  });

  test("publish logs in with withRegistryAuth; without it the registry's refusal is named", async () => {
    const target = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "registry-auth.mjs")], {
      env: { ...engine.env, TANTO_TEST_IMAGE: image, TANTO_AUTH_REGISTRY: target, TANTO_AUTH_PASSWORD: "hunter2" },
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    assert.match(out["anonymous"]!, /401|unauthori|credentials|refused/i);
    assert.match(out["published"]!, new RegExp(`^${target.replace(/\./g, "\\.")}/private:1@sha256:[0-9a-f]{64}$`));
    assert.doesNotMatch(engine.logs(), /hunter2/);
  });
});
