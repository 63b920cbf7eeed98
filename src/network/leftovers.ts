/**
 * Repair at start: remove everything a previous engine on the same state
 * directory left (it may have crashed): its dnsmasq, its namespaces (CNI DEL
 * with the network they were attached to, then the name), the nftables table
 * isolating its services, and the host state of its networks (see bridge-state.ts).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { messageOf } from "../errors.js";
import { bridgeConfList, IFNAME, linkExists, type RecordedNetwork, readJson, recordedNetworks, removeHostState } from "./bridge-state.js";
import { parseSubnet } from "./cidr.js";
import { CniPlugins, type CniResult } from "./cni-plugins.js";
import { DnsmasqServer } from "./dnsmasq-server.js";
import { deleteNetns, listNetns, netnsPath } from "./netns.js";
import { ServiceFirewall } from "./service-firewall.js";
import type { NetworkLog } from "./types.js";

/** What cleanupLeftovers found and removed. */
export interface LeftoverReport {
  namespaces: number;
  dnsmasqPid: number | undefined;
  /** Attachments whose iptables rules had to be swept (their DEL could not run). */
  sweptRules: number;
  bridges: string[];
  /** The nftables table isolating services was still there. */
  firewallTable: boolean;
}

/** The network being started, whose leftovers are looked for. */
export interface LeftoverNetwork {
  stateDir: string;
  /** Prefix of its namespaces' names. */
  prefix: string;
  cniPath: string;
  /** Its nftables table (service-firewall.ts), when it is to go too. */
  firewallTable?: string;
  /** The network as configured now (a previous engine may have recorded another). */
  ours: RecordedNetwork;
  log?: NetworkLog;
}

export async function cleanupLeftovers(net: LeftoverNetwork, opts: { signal?: AbortSignal } = {}): Promise<LeftoverReport> {
  const report: LeftoverReport = { namespaces: 0, dnsmasqPid: undefined, sweptRules: 0, bridges: [], firewallTable: false };
  report.dnsmasqPid = await DnsmasqServer.killLeftover(path.join(net.stateDir, "dns"));

  const resultsDir = path.join(net.stateDir, "cni", "results");
  const withResults = (await fs.readdir(resultsDir).catch(() => [] as string[])).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
  const names = new Set([...(await listNetns(net.prefix)), ...withResults.filter((id) => id.startsWith(net.prefix))]);
  const recorded = await recordedNetworks(net.stateDir, net.ours);
  // A previous engine that closed cleanly removed its state directory last (network.json with it);
  // with no record, no namespace and no bridge of ours there is nothing to sweep, and the start
  // saves the iptables and route listings (~7 processes).
  const hadRecord = await fs.stat(path.join(net.stateDir, "network.json")).then(
    () => true,
    () => false,
  );
  if (net.firewallTable !== undefined) report.firewallTable = await ServiceFirewall.removeLeftover(net.firewallTable);
  if (!hadRecord && names.size === 0 && !(await linkExists(net.ours.bridge))) return report;
  for (const id of names) {
    opts.signal?.throwIfAborted();
    const result = await readJson<CniResult>(path.join(resultsDir, `${id}.json`));
    const exists = await fs.stat(netnsPath(id)).then(
      () => true,
      () => false,
    );
    // DEL with the network the namespace was attached to, which a config change may have renamed.
    for (const r of recorded) {
      const plugins = new CniPlugins(bridgeConfList(net.stateDir, r.name, r.bridge, parseSubnet(r.subnet)), net.cniPath);
      await plugins
        .del({ containerId: id, netns: exists ? netnsPath(id) : "", ifName: IFNAME }, result)
        .catch((err: unknown) => net.log?.warn(`network ${r.name}: CNI DEL of leftover namespace failed`, { id, error: messageOf(err) }));
    }
    await deleteNetns(id);
    report.namespaces++;
  }
  report.sweptRules = await removeHostState(net.stateDir, recorded, net.log, report.bridges);
  return report;
}
