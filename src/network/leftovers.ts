/**
 * Repair at start: remove everything a previous engine on the same state
 * directory left (it may have crashed): its dnsmasq, its namespaces (their
 * links and names; what their CNI DEL would undo, in bulk), the nftables table
 * isolating its services, and the host state of its networks (see bridge-state.ts).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { bridgePorts, type RecordedNetwork, readJson, recordedNetworks, removeHostState } from "./bridge-state.js";
import { type CniResult, hostPortOf } from "./cni-plugins.js";
import { DnsmasqServer } from "./dnsmasq-server.js";
import { deleteNetnsMany, listNetns } from "./netns.js";
import { linkExists } from "./proc-net.js";
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
  // What CNI DEL would undo, all at once (four plugin processes per namespace otherwise, seconds
  // for a pool of a hundred): the links (the host ends the ADD results name) and the names in one
  // `ip` batch; the iptables rules, the bridge and the IPAM reservations below, whichever of the
  // recorded networks they were attached to.
  opts.signal?.throwIfAborted();
  const ports = new Set<string>();
  for (const r of recorded) for (const p of await bridgePorts(r.bridge, 0)) ports.add(p);
  const links = new Set<string>();
  for (const id of names) {
    const result = await readJson<CniResult>(path.join(resultsDir, `${id}.json`));
    for (const r of recorded) {
      // Only a port of the bridge it was attached to: a name the kernel has since given to another link stays.
      const port = result === undefined ? undefined : hostPortOf(result, r.bridge);
      if (port !== undefined && ports.has(port)) links.add(port);
    }
  }
  await deleteNetnsMany([...names], [...links]);
  report.namespaces = names.size;
  report.sweptRules = await removeHostState(net.stateDir, recorded, net.log, report.bridges);
  return report;
}
