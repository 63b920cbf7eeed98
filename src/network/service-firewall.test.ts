/**
 * Root tests of service isolation on a real CNI network: a service's address
 * answers the namespaces of its own scope and those allowed to reach it, and
 * nothing else on the bridge, not even one taking another's address; a
 * released namespace leaves its scope and its allows; the kernel's sets follow. Traffic stays between the namespaces
 * created here (a /24 of 10.88.0.0/16 picked from the pid, as in
 * cni-network.test.ts, offset so both files can run side by side).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { until, webRootfs } from "../../test/support/network.js";
import { RuncExecutor } from "../executor/runc-executor.js";
import type { RunSpec } from "../executor/types.js";
import { CniNetwork } from "./cni-network.js";
import type { NetworkNamespace } from "./types.js";

const RUNC = "/usr/sbin/runc";
const canRun =
  process.getuid?.() === 0 &&
  existsSync("/usr/lib/cni/bridge") &&
  existsSync("/usr/sbin/dnsmasq") &&
  existsSync("/usr/sbin/nft") &&
  existsSync(RUNC) &&
  existsSync("/bin/busybox") &&
  existsSync("/usr/bin/tini-static");

describe("service isolation", { skip: canRun ? false : "needs root, containernetworking-plugins, dnsmasq, nftables, runc, busybox-static, tini" }, () => {
  let work: string;
  let rootfs: string;
  let executor: RuncExecutor;
  let net: CniNetwork;
  let seq = 0;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "tanto-fw-"));
    chmodSync(work, 0o711);
    rootfs = join(work, "rootfs");
    await webRootfs(rootfs, "served\n");
    executor = new RuncExecutor({ runcPath: RUNC, root: join(work, "runc"), bundleDir: join(work, "bundles") });
    net = new CniNetwork({
      stateDir: join(work, "network"),
      name: `tnt-f${process.pid % 100000}`,
      subnet: `10.88.${((process.pid + 7) % 250) + 1}.0/24`,
      poolSize: 2,
    });
    // What a crashed engine on this state directory would have left: its table, with a service in it.
    execFileSync("nft", ["-f", "-"], { input: `table bridge ${net.firewallTable} {\n  set isolated { type ipv4_addr; elements = { 10.88.0.77 }; }\n}\n` });
    await net.start();
  });

  after(async () => {
    try {
      await executor.shutdown();
      await net.close();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  const spec = (ns: NetworkNamespace, script: string): RunSpec => ({
    rootfs,
    process: { args: ["sh", "-c", script], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] } },
    network: { netnsPath: ns.path },
    mounts: [
      { destination: "/etc/resolv.conf", type: "bind", source: ns.resolvConf, options: ["rbind", "ro"] },
      { destination: "/etc/hosts", type: "bind", source: ns.hostsFile, options: ["rbind", "ro"] },
    ],
  });
  async function output(ns: NetworkNamespace, script: string, signal?: AbortSignal): Promise<string> {
    const out: Buffer[] = [];
    await executor.run(`fw${process.pid}-${++seq}`, spec(ns, script), { stdout: (c) => out.push(c), stderr: () => undefined }, signal ? { signal } : {});
    return Buffer.concat(out).toString();
  }
  /** What a container in `ns` gets from the service: its page, or "unreachable" (busybox wget -T crashes: timeout instead). */
  const probe = (ns: NetworkNamespace, ip: string): Promise<string> => output(ns, `timeout 2 wget -qO- http://${ip}:8080/ 2>/dev/null || echo unreachable`);
  const allowedSet = (): string => execFileSync("nft", ["list", "set", "bridge", net.firewallTable, "allowed"], { encoding: "utf8" });
  const isolatedSet = (): string => execFileSync("nft", ["list", "set", "bridge", net.firewallTable, "isolated"], { encoding: "utf8" });

  it("replaces a table a crashed engine left", () => {
    const table = execFileSync("nft", ["list", "table", "bridge", net.firewallTable], { encoding: "utf8" });
    assert.doesNotMatch(table, /10\.88\.0\.77/);
    assert.match(table, /ip daddr @isolated drop/);
  });

  it("answers its own scope and those allowed, nothing else; released namespaces leave", async () => {
    const web = await net.acquire({ scope: "session-a" });
    const server = new AbortController();
    const serving = output(web, "exec httpd -f -p 8080 -h /www", server.signal).catch(() => "");
    try {
      await net.isolate(web.ip, "session-a");
      const same = await net.acquire({ scope: "session-a" });
      const other = await net.acquire({ scope: "session-b" });
      const none = await net.acquire();
      try {
        // Wait for httpd through the namespace that may reach it.
        await output(same, `for i in $(seq 100); do wget -qO- http://${web.ip}:8080/ >/dev/null 2>&1 && break; sleep 0.05; done`);
        assert.equal(await probe(same, web.ip), "served\n", "a namespace of its own scope");
        assert.equal(await probe(other, web.ip), "unreachable\n", "a namespace of another scope");
        assert.equal(await probe(none, web.ip), "unreachable\n", "a namespace of no scope");
        assert.equal(await output(other, `ping -c 1 -W 2 ${web.ip} >/dev/null 2>&1 && echo pinged || echo no`), "no\n", "ping too");
        assert.equal(
          await output(other, `ping -c 1 -W 2 ${same.ip} >/dev/null 2>&1 && echo pinged || echo no`),
          "pinged\n",
          "what is not a service stays reachable",
        );

        // A namespace of another scope taking the address of one of the service's own (as root in it could).
        const spoofer = await net.acquire({ scope: "session-b" });
        try {
          execFileSync("ip", ["-n", spoofer.id, "addr", "flush", "dev", "eth0"]);
          execFileSync("ip", ["-n", spoofer.id, "addr", "add", `${same.ip}/24`, "dev", "eth0"]);
          const r = spawnSync("ip", ["netns", "exec", spoofer.id, "timeout", "2", "/bin/busybox", "wget", "-qO-", `http://${web.ip}:8080/`], {
            encoding: "utf8",
          });
          assert.equal(r.stdout, "", "another namespace's address does not pass");
          assert.equal(await probe(same, web.ip), "served\n", "the namespace that owns the address still reaches it");
        } finally {
          await net.release(spoofer, { discard: true });
        }

        await net.allow(other.ip, web.ip);
        assert.equal(await probe(other, web.ip), "served\n", "allowed (a binding) from another scope");
        assert.match(allowedSet(), new RegExp(`${other.ip.replaceAll(".", "\\.")} \\. ${web.ip.replaceAll(".", "\\.")}`));
      } finally {
        await net.release(other);
        await net.release(none);
      }
      // Release resolves at once; the namespace leaves its scope before it is back in the pool.
      await until("a released namespace loses what it was allowed", () => !new RegExp(`${other.ip.replaceAll(".", "\\.")} \\. `).test(allowedSet()));
      await net.release(same);
      await until("and leaves its scope", () => !new RegExp(`${same.ip.replaceAll(".", "\\.")} \\. `).test(allowedSet()));
    } finally {
      server.abort();
      await serving;
      await net.release(web);
    }
    await until("a released service's address no longer isolated", () => !isolatedSet().includes(web.ip));
    assert.doesNotMatch(allowedSet(), /elements/, "nothing left allowed");
  });

  it("isolates a host address (host services) the same way, until it is removed", async () => {
    const addr = await net.addHostAddress();
    const other = await net.acquire({ scope: "session-b" });
    try {
      assert.equal(await output(other, `ping -c 1 -W 2 ${addr.ip} >/dev/null 2>&1 && echo pinged || echo no`), "pinged\n", "reachable before");
      await net.isolate(addr.ip, "session-a");
      assert.equal(await output(other, `ping -c 1 -W 2 ${addr.ip} >/dev/null 2>&1 && echo pinged || echo no`), "no\n", "not from another scope");
    } finally {
      await addr.remove();
      await net.release(other);
    }
    assert.doesNotMatch(isolatedSet(), /elements/, "removing the host address ends its isolation");
  });
});
