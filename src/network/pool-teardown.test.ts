/**
 * Root tests: a network with a large namespace pool (as an engine with
 * max-parallelism 100 keeps) is removed in bulk, on close() and by the sweep
 * at the next start after a crash, within a few seconds and without leaving
 * anything: namespaces, links, the bridge, iptables rules, the nftables
 * table, dnsmasq, IPAM state. Test-only names and /24s of 10.89.0.0/16
 * picked from the pid (cni-network.test.ts has 10.88).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { alive, linkExists, networkToCrash, type ShownNetwork, sh, until } from "../../test/support/network.js";
import { CniNetwork } from "./cni-network.js";
import { type CniNetworkOptions, firewallTable } from "./cni-settings.js";

const canRun = process.getuid?.() === 0 && existsSync("/usr/lib/cni/bridge") && existsSync("/usr/sbin/dnsmasq");
const POOL = 60;
/** What the old one-DEL-per-namespace close took for this pool on the 2-core dev machine: 10–18 s. */
const STOP_WITHIN_MS = 5_000;

const testSubnet = (offset: number): string => `10.89.${((process.pid + offset) % 250) + 1}.0/24`;

type Shown = Omit<ShownNetwork, "dnsPid"> & { dnsPid: number | undefined };

/** The host ends of the bridge's links, while it runs. */
function ports(bridge: string): string[] {
  return (JSON.parse(sh("ip", ["-j", "link", "show", "master", bridge]) || "[]") as Array<{ ifname: string }>).map((l) => l.ifname);
}

/** Everything of the network still on the host. */
function traces(net: Shown, links: string[]) {
  const subnetPrefix = net.subnet.split(".").slice(0, 3).join(".") + ".";
  const rules = (sh("iptables", ["-w", "-S"]) + sh("iptables", ["-w", "-t", "nat", "-S"]))
    .split("\n")
    .filter((l) => l.includes(`\\"${net.name}\\"`) || l.includes(subnetPrefix));
  return {
    namespaces: readdirSync("/run/netns").filter((n) => n.startsWith(net.prefix)),
    links: links.filter(linkExists),
    bridge: linkExists(net.bridge),
    rules,
    dnsmasq: net.dnsPid !== undefined && alive(net.dnsPid),
    nftables: sh("nft", ["list", "tables"]).includes(`bridge ${firewallTable(net.prefix)}\n`),
  };
}
const NOTHING = { namespaces: [], links: [], bridge: false, rules: [], dnsmasq: false, nftables: false };

describe("a large namespace pool", { skip: canRun ? false : "needs root, containernetworking-plugins, dnsmasq" }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "tanto-pool-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it(`closes within ${STOP_WITHIN_MS / 1000} s with ${POOL} namespaces, some in use, and leaves nothing`, async (t) => {
    const opts: CniNetworkOptions = { stateDir: join(work, "closed"), name: `tnt-p${process.pid % 100000}`, subnet: testSubnet(0), poolSize: POOL };
    const net = new CniNetwork(opts);
    try {
      await net.start();
      await until(`${POOL} namespaces ready`, () => net.stats().ready >= POOL, 180_000, 100);
      const used = [await net.acquire({ scope: "s1" }), await net.acquire()];
      await net.isolate(used[0]?.ip ?? "", "s1");
      const shown: Shown = { prefix: net.prefix, bridge: net.bridge, name: net.name, subnet: net.subnet, dnsPid: net.dnsPid };
      const links = ports(net.bridge);
      assert.ok(links.length >= POOL, `${links.length} links on the bridge`);
      assert.ok(traces(shown, links).rules.length >= POOL, "rules exist while running");

      const started = performance.now();
      await net.close();
      const ms = performance.now() - started;
      t.diagnostic(`close() with ${POOL} namespaces: ${Math.round(ms)} ms`);
      assert.deepEqual(traces(shown, links), NOTHING);
      assert.equal(existsSync(opts.stateDir), false, "the state directory (IPAM reservations, ADD results) is gone");
      assert.ok(ms < STOP_WITHIN_MS, `close() took ${Math.round(ms)} ms`);
    } finally {
      await net.close().catch(() => undefined);
    }
  });

  it(`sweeps ${POOL} namespaces a killed engine left within ${STOP_WITHIN_MS / 1000} s, and leaves nothing`, async (t) => {
    const opts: CniNetworkOptions = { stateDir: join(work, "crashed"), name: `tnt-q${process.pid % 100000}`, subnet: testSubnet(1), poolSize: POOL };
    const stand = await networkToCrash(opts, `while (net.stats().ready < ${POOL}) await new Promise((r) => setTimeout(r, 100)); await net.acquire();`);
    const shown = stand.shown;
    const links = ports(shown.bridge);
    await stand.kill();
    assert.ok(traces(shown, links).namespaces.length >= POOL, "the killed engine left its namespaces");

    const fresh = new CniNetwork(opts);
    const started = performance.now();
    const report = await fresh.cleanupLeftovers();
    const ms = performance.now() - started;
    t.diagnostic(`sweep of ${report.namespaces} namespaces: ${Math.round(ms)} ms`);
    assert.ok(report.namespaces >= POOL, `${report.namespaces} namespaces swept`);
    assert.deepEqual(report.bridges, [shown.bridge]);
    await until("the leftover dnsmasq gone", () => !traces(shown, []).dnsmasq, 5_000, 100);
    assert.deepEqual(traces(shown, links), NOTHING);
    assert.equal(existsSync(join(opts.stateDir, "cni")), false, "IPAM reservations and ADD results are gone");
    assert.ok(ms < STOP_WITHIN_MS, `the sweep took ${Math.round(ms)} ms`);
  });
});
