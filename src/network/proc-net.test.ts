import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseProcRoutes } from "./proc-net.js";

const PROC_NET = fileURLToPath(new URL("./proc-net.js", import.meta.url));

/** What `ip` itself says in namespace `ns`: the main table's non-default IPv4 routes, and whether each link exists. */
function ipSays(ns: string, links: string[]): { routes: string[]; links: boolean[] } {
  const out = execFileSync("ip", ["netns", "exec", ns, "ip", "-j", "-4", "route", "show"], { encoding: "utf8" });
  const routes = (JSON.parse(out || "[]") as Array<{ dst: string; dev?: string }>)
    .filter((r) => r.dst !== "default")
    .map((r) => `${r.dst.includes("/") ? r.dst : `${r.dst}/32`} ${r.dev ?? "?"}`);
  return {
    routes: routes.sort(),
    links: links.map((l) => spawnSync("ip", ["netns", "exec", ns, "ip", "link", "show", "dev", l], { stdio: "ignore" }).status === 0),
  };
}

/** What proc-net.ts reads in namespace `ns` (a node process run there). */
function procSays(ns: string, links: string[]): { routes: string[]; links: boolean[] } {
  const script = `const m = await import(${JSON.stringify(PROC_NET)});
    const routes = (await m.mainRoutes()).map((r) => r.dst + " " + r.dev).sort();
    const links = []; for (const l of ${JSON.stringify(links)}) links.push(await m.linkExists(l));
    console.log(JSON.stringify({ routes, links }));`;
  return JSON.parse(execFileSync("ip", ["netns", "exec", ns, process.execPath, "--input-type=module", "-e", script], { encoding: "utf8" }));
}

describe("proc-net", { skip: process.getuid?.() !== 0 ? "needs root (a network namespace)" : false }, () => {
  const ns = `tanto-procnet-${randomBytes(4).toString("hex")}`;
  const sh = (...args: string[]): void => void execFileSync("ip", ["netns", "exec", ns, ...args], { stdio: "ignore" });
  before(() => {
    execFileSync("ip", ["netns", "add", ns]);
    sh("ip", "link", "set", "lo", "up");
    sh("ip", "link", "add", "pn-dummy0", "type", "veth", "peer", "name", "pn-peer0");
    sh("ip", "link", "set", "pn-peer0", "up");
    sh("ip", "addr", "add", "10.8.1.1/24", "dev", "pn-dummy0");
    sh("ip", "link", "set", "pn-dummy0", "up");
    sh("ip", "route", "add", "192.168.77.5", "dev", "pn-dummy0");
    sh("ip", "route", "add", "172.20.0.0/14", "via", "10.8.1.7");
    sh("ip", "route", "add", "blackhole", "10.9.0.0/16");
    sh("ip", "route", "add", "default", "via", "10.8.1.254");
  });
  after(() => void spawnSync("ip", ["netns", "delete", ns]));

  it("lists the routes and links `ip` shows, in the reader's namespace", () => {
    const links = ["lo", "pn-dummy0", "pn-dummy", "eth0", "pn-peer0"];
    const fromIp = ipSays(ns, links);
    assert.deepEqual(fromIp.routes, ["10.8.1.0/24 pn-dummy0", "10.9.0.0/16 ?", "172.20.0.0/14 pn-dummy0", "192.168.77.5/32 pn-dummy0"]);
    assert.deepEqual(procSays(ns, links), fromIp);
    assert.deepEqual(fromIp.links, [true, true, false, false, true]);
  });

  it("reads the addresses of a big-endian host's listing", () => {
    const text =
      "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nbr0\t0A570000\t00000000\t0001\t0\t0\t0\tFFFF0000\t0\t0\t0\n";
    assert.deepEqual(parseProcRoutes(text, "BE"), [{ dst: "10.87.0.0/16", dev: "br0", subnet: { base: 0x0a570000, prefix: 16 } }]);
    assert.deepEqual(parseProcRoutes(text.replace("0A570000", "0000570A").replace("FFFF0000", "0000FFFF"), "LE")[0]?.dst, "10.87.0.0/16");
  });
});
