/**
 * The host side of a bridge network: its CNI plugin list, the bridge device
 * and the address range kept for host services, the host's routes (a subnet
 * must not overlap one), and sweeping what a network left on the host
 * (iptables rules, the bridge, CNI state) once its namespaces are gone.
 *
 * `network.json` in the state directory records the network in use, so a
 * later engine cleans up after a change of name or subnet.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EngineError, FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import { formatIpv4, formatSubnet, gatewayOf, type Ipv4Subnet, parseCidr, parseSubnet, subnetsOverlap } from "./cidr.js";
import { CNI_VERSION, type CniConfList } from "./cni-plugins.js";
import { mustRun, runCommand } from "./command.js";
import { removeFirewallRules, removeMasqueradeRules, removeUnusedForwardChains } from "./iptables.js";
import { linkExists, mainRoutes } from "./proc-net.js";
import type { NetworkLog } from "./types.js";

/** The interface name namespaces are attached with (CNI's ifName). */
export const IFNAME = "eth0";

/** Whether the kernel has IPv6 (not booted with ipv6.disable=1). */
const HOST_HAS_IPV6 = existsSync("/proc/sys/net/ipv6");

export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const BRIDGE_FREE_WAIT_MS = 3_000;

/** A network as recorded in network.json. */
export interface RecordedNetwork {
  name: string;
  bridge: string;
  subnet: string;
}

/** The plugin list of a bridge network (see cni-network.ts); host-local keeps its reservations under `stateDir`. */
export function bridgeConfList(stateDir: string, name: string, bridge: string, subnet: Ipv4Subnet): CniConfList {
  return {
    cniVersion: CNI_VERSION,
    name,
    plugins: [
      {
        type: "bridge",
        bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          // The top addresses stay out of IPAM: they are for host services (addHostAddress).
          ranges: [[{ subnet: formatSubnet(subnet), gateway: gatewayOf(subnet), rangeEnd: formatIpv4(hostAddressRange(subnet).first - 1) }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: path.join(stateDir, "cni", "ipam"),
        },
      },
      // No IPv6 on the namespace's link: its link-local address would reach services around their
      // isolation (IPv4 only). A kernel without IPv6 has no such address, nor the sysctl.
      ...(HOST_HAS_IPV6 ? [{ type: "tuning", sysctl: { [`net.ipv6.conf.${IFNAME}.disable_ipv6`]: "1" } }] : []),
      { type: "firewall", backend: "iptables" },
      { type: "loopback" },
    ],
  };
}

/** Refuse a subnet the host already routes (other than through our own bridge). */
export async function checkRoutes(subnet: Ipv4Subnet, bridge: string): Promise<void> {
  for (const r of await mainRoutes()) {
    if (r.dev === bridge || !subnetsOverlap(subnet, r.subnet)) continue;
    throw new InvalidArgumentError(`network CIDR ${formatSubnet(subnet)} overlaps the host route ${r.dst} (dev ${r.dev}): choose another --network-cidr`);
  }
}

/** Sweep iptables rules, delete bridges and on-disk CNI state of the given networks; returns the attachments swept. */
export async function removeHostState(
  stateDir: string,
  networks: RecordedNetwork[],
  log: NetworkLog | undefined,
  removedBridges: string[] = [],
): Promise<number> {
  let swept = 0;
  for (const n of networks) {
    const bridgeExists = await linkExists(n.bridge);
    if (bridgeExists) {
      const ports = await bridgePorts(n.bridge);
      if (ports.length > 0) {
        throw new FailedPreconditionError(
          `bridge ${n.bridge} of network "${n.name}" is in use by another engine (ports ${ports.join(", ")}): choose another network name`,
        );
      }
    }
    swept += await removeMasqueradeRules(n.name);
    // Firewall rules carry addresses only: sweep them only while no other device routes the subnet.
    const subnet = parseSubnet(n.subnet);
    const owner = (await mainRoutes()).find((r) => r.dev !== n.bridge && subnetsOverlap(subnet, r.subnet));
    if (owner === undefined) swept += await removeFirewallRules(subnet);
    else log?.debug(`network ${n.name}: not sweeping firewall rules of ${n.subnet}, routed by ${owner.dev}`);
    if (bridgeExists) {
      await mustRun("ip", ["link", "delete", n.bridge, "type", "bridge"]);
      removedBridges.push(n.bridge);
    }
  }
  await removeUnusedForwardChains();
  await fs.rm(path.join(stateDir, "cni"), { recursive: true, force: true });
  await fs.rm(path.join(stateDir, "netns"), { recursive: true, force: true });
  await fs.rm(path.join(stateDir, "network.json"), { force: true });
  return swept;
}

/** The networks a previous engine recorded, plus ours. */
export async function recordedNetworks(stateDir: string, ours: RecordedNetwork): Promise<RecordedNetwork[]> {
  const prev = await readJson<RecordedNetwork>(path.join(stateDir, "network.json"));
  const valid = prev !== undefined && NETWORK_NAME_RE.test(prev.name) && /^[\w.-]{1,15}$/.test(prev.bridge) && parseCidr(prev.subnet) !== undefined;
  return valid && (prev.name !== ours.name || prev.bridge !== ours.bridge || prev.subnet !== ours.subnet) ? [prev, ours] : [ours];
}

/** Addresses kept for host services: the top eighth of the subnet, at most 32, below broadcast. */
export function hostAddressRange(subnet: Ipv4Subnet): { first: number; last: number } {
  const size = 2 ** (32 - subnet.prefix);
  const count = Math.max(1, Math.min(32, Math.floor(size / 8)));
  const last = subnet.base + size - 2;
  return { first: last - count + 1, last };
}

/** The bridge's device name: `<name>0` when that fits in 15 characters, else a hash of the name. */
export function bridgeName(network: string): string {
  const plain = `${network}0`;
  if (plain.length <= 15 && /^[\w-]+$/.test(network)) return plain;
  return `tnt-${createHash("sha256").update(network).digest("hex").slice(0, 11)}`;
}

/** Ports of a bridge (none when it does not exist); a detached namespace's veth may linger a moment while the kernel frees the namespace. */
export async function bridgePorts(bridge: string, waitMs = BRIDGE_FREE_WAIT_MS): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = await runCommand("ip", ["-j", "link", "show", "master", bridge]);
    if (r.code !== 0 && !(await linkExists(bridge))) return [];
    if (r.code !== 0) throw new EngineError(`ip -j link show master ${bridge} failed (exit ${r.code}): ${r.stderr.trim()}`);
    const out = r.stdout;
    const ports = (JSON.parse(out || "[]") as Array<{ ifname?: string }>).map((l) => l.ifname ?? "?");
    if (ports.length === 0 || Date.now() > deadline) return ports;
    await sleep(20);
  }
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}
