/**
 * Networking and services through the official SDK: containers reach bound
 * services by alias and by hostname on tanto's bridge; a service is shared
 * within a session; nothing of the network survives the engine (namespaces,
 * bridge, iptables rules, the nftables table isolating services); and
 * max-services bounds the service containers running at once.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

function networkTraces(name: string, root: string): string[] {
  const traces: string[] = [];
  // The table isolating services (network/service-firewall.ts), named after the network's state directory.
  const table = `tanto-${createHash("sha256").update(path.resolve(root, "network")).digest("hex").slice(0, 8)}`;
  const tables = execFileSync("nft", ["list", "tables"], { encoding: "utf8" });
  if (tables.includes(table)) traces.push(`nftables: ${table}`);
  const ns = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (ns.includes(name)) traces.push(`namespaces: ${ns}`);
  try {
    execFileSync("ip", ["link", "show", name + "0"], { stdio: "ignore" });
    traces.push(`bridge ${name}0`);
  } catch {
    // gone, as it should be
  }
  for (const table of ["filter", "nat"]) {
    const rules = execFileSync("iptables", ["-t", table, "-S"], { encoding: "utf8" });
    if (rules.includes(name))
      traces.push(
        `iptables ${table}: ${rules
          .split("\n")
          .filter((l) => l.includes(name))
          .join("; ")}`,
      );
  }
  return traces;
}

describe("services", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest` };
  });
  after(() => engine.destroy());

  test("bound services answer by alias and hostname, are shared, chain, and fail clearly", async () => {
    const upPort = 20000 + Math.floor(Math.random() * 20000);
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "services.mjs")], { env: { ...env, TANTO_UP_PORT: String(upPort) } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.match(String(out["a"]), /^hello from web\n\d+\n$/);
    assert.equal(out["samePid"], true, "both containers reached one instance");
    assert.match(String(out["hostname"]), /^svc-[0-9a-f]{12}$/);
    assert.equal(out["endpoint"], `http://${String(out["hostname"])}:80`);
    assert.equal(out["byHostname"], "hello from web\n");
    assert.equal(out["chained"], "hello from web\n");
    assert.match(String(out["broken"]), /exited with code 3/);
    assert.match(String(out["broken"]), /boom/);
    assert.match(String(out["serviceEnded"]), /service short ended while the command ran: .*exited with code 4/);
    assert.equal(out["serviceEndedFast"], true, "the command is stopped when its service ends, not waited for");
    assert.deepEqual(out["etc"], ["group", "passwd"], "resolv.conf and hosts stay out of the committed diff");
    assert.equal(out["started"], out["hostname"]);
    assert.equal(out["up"], "hello from web\n", "Service.up serves on the client's 127.0.0.1");
    assert.match(String(out["tunnelEndpoint"]), /^http:\/\/localhost:\d+$/);
    assert.equal(out["tunnel"], "hello from web\n");
    assert.equal(out["hostService"], "from the client\n", "host().service reaches the client's port");
  });

  test("after the engine stops, nothing of its network remains", async () => {
    assert.equal(await engine.stop(), 0);
    assert.deepEqual(await leftovers(engine.root), { mounts: [], containers: [] });
    assert.deepEqual(networkTraces(engine.networkName, engine.root), []);
    const dnsmasq = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes("dnsmasq") && l.includes(engine.root));
    assert.deepEqual(dnsmasq, []);
    await engine.restart();
  });
});

describe("max-services", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({
      registry,
      configText: `[registry."docker.io"]\nmirrors = ["${registry}"]\n[registry."${registry}"]\nhttp = true\n[worker.oci]\nmax-services = 1\n`,
    });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, TANTO_TEST_TAG: String(process.pid) };
  });
  after(() => engine.destroy());

  test("with max-services = 1, a second service waits to start until the first stops", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "service-limit.mjs")], { env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { waitedWhileFirstRan: true, startedAfterStop: true, second: "second\n" });
  });
});
