/**
 * Finding and removing the iptables rules CNI's plugins leave for a network,
 * for when their own DEL could not run (a crash, a namespace already gone).
 * Rules are recognised by what the plugins write, never by position:
 *
 *   bridge (ipMasq), nat table:
 *     -A POSTROUTING -s 10.87.0.2/32 -m comment --comment "name: \"tanto\" id: \"<id>\"" -j CNI-<hash>
 *     -N CNI-<hash>   (a chain per attachment, holding ACCEPT + MASQUERADE)
 *   firewall, filter table (chains shared by every CNI network on the host):
 *     -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
 *     -A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN
 *     -A CNI-FORWARD -d 10.87.0.2/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
 *     -A CNI-FORWARD -s 10.87.0.2/32 -j ACCEPT
 */

import { EngineError } from "../errors.js";
import { type Ipv4Subnet, parseCidr, subnetContains } from "./cidr.js";
import { mustRun, runCommand } from "./command.js";
import { withHostLock } from "./host-lock.js";

const IPTABLES = "iptables";
export const FORWARD_CHAIN = "CNI-FORWARD";
export const ADMIN_CHAIN = "CNI-ADMIN";
const MASQ_COMMENT = /^name: "(.*)" id: "(.*)"$/;

export interface TableDump {
  /** Every chain, built-in (`-P`) and user-defined (`-N`). */
  chains: Set<string>;
  /** The `-A` rules as argv arrays, in order. */
  rules: string[][];
  /** Each rule's line as iptables printed it (iptables-restore reads it back), by its argv. */
  lines: Map<string[], string>;
}

/**
 * The whole table, listed once: iptables-nft cannot tell a missing chain from
 * one it does not understand (`-S NOPE` says "incompatible"), so chains are
 * looked up in the full listing instead.
 */
export async function dumpTable(table: string): Promise<TableDump> {
  const out = await mustRun(IPTABLES, ["-w", "-t", table, "-S"]);
  const dump: TableDump = { chains: new Set(), rules: [], lines: new Map() };
  for (const line of out.split("\n")) {
    const argv = splitRule(line);
    if ((argv[0] === "-N" || argv[0] === "-P") && argv[1] !== undefined) dump.chains.add(argv[1]);
    else if (argv[0] === "-A") {
      dump.rules.push(argv);
      dump.lines.set(argv, line);
    }
  }
  return dump;
}

function rulesOf(dump: TableDump, chain: string): string[][] {
  return dump.rules.filter((r) => r[1] === chain);
}

/** Split one `iptables -S` line into argv: words, and double-quoted strings with backslash escapes. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === " ") {
      i++;
      continue;
    }
    let word = "";
    if (line[i] === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === "\\" && i + 1 < line.length) i++;
        word += line[i];
      }
      i++;
    } else {
      for (; i < line.length && line[i] !== " "; i++) word += line[i];
    }
    out.push(word);
  }
  return out;
}

function flagValue(rule: readonly string[], flag: string): string | undefined {
  const at = rule.indexOf(flag);
  return at < 0 ? undefined : rule[at + 1];
}

async function deleteRule(table: string, rule: readonly string[]): Promise<void> {
  // rule is ["-A", chain, ...spec]; "-D chain spec" deletes the identical rule wherever it is.
  const r = await runCommand(IPTABLES, ["-w", "-t", table, "-D", ...rule.slice(1)]);
  if (r.code !== 0 && !/does a matching rule exist|No chain|Bad rule/i.test(r.stderr)) {
    throw new EngineError(`cannot delete iptables rule "${rule.join(" ")}" in table ${table}: ${r.stderr.trim()}`);
  }
}

/** Flush and delete a chain; one already gone (another engine's cleanup) is fine. */
async function removeChain(table: string, chain: string): Promise<void> {
  for (const op of ["-F", "-X"]) {
    const r = await runCommand(IPTABLES, ["-w", "-t", table, op, chain]);
    if (r.code !== 0 && !/No chain|does not exist/i.test(r.stderr)) {
      throw new EngineError(`iptables -t ${table} ${op} ${chain} failed: ${r.stderr.trim()}`);
    }
  }
}

/**
 * Delete `rules` (from `dump`) and then empty and delete `chains`, in one
 * iptables-restore transaction: a network with a hundred namespaces leaves
 * some four hundred rules and chains, one iptables process each otherwise
 * (seconds on a busy host). Should the transaction fail (another engine
 * removed one of them meanwhile), they go one at a time, where "already gone"
 * is fine.
 */
async function deleteAll(table: string, dump: TableDump, rules: readonly string[][], chains: readonly string[]): Promise<void> {
  if (rules.length === 0 && chains.length === 0) return;
  const script = [
    `*${table}`,
    ...rules.map((r) => (dump.lines.get(r) ?? "").replace(/^-A /, "-D ")),
    ...chains.flatMap((c) => [`-F ${c}`, `-X ${c}`]),
    "COMMIT",
    "",
  ].join("\n");
  if (rules.every((r) => dump.lines.has(r)) && (await runCommand("iptables-restore", ["-w", "--noflush"], { input: script })).code === 0) return;
  for (const rule of rules) await deleteRule(table, rule);
  for (const chain of chains) await removeChain(table, chain);
}

/** Held while the firewall plugin runs and while its shared chains are removed. */
export const SHARED_CHAINS_LOCK = "cni-shared-chains";

/** The nat rules (and per-attachment chains) the bridge plugin's ipMasq made for `network`. Returns how many attachments it cleaned. */
export async function removeMasqueradeRules(network: string): Promise<number> {
  const nat = await dumpTable("nat");
  const rules = rulesOf(nat, "POSTROUTING").filter((rule) => MASQ_COMMENT.exec(flagValue(rule, "--comment") ?? "")?.[1] === network);
  const chains = rules.map((rule) => flagValue(rule, "-j") ?? "").filter((target) => target.startsWith("CNI-") && nat.chains.has(target));
  await deleteAll("nat", nat, rules, [...new Set(chains)]);
  return rules.length;
}

/** The firewall plugin's per-address rules for addresses in `subnet`. */
export async function removeFirewallRules(subnet: Ipv4Subnet): Promise<number> {
  const filter = await dumpTable("filter");
  const rules = rulesOf(filter, FORWARD_CHAIN).filter((rule) => {
    const addr = flagValue(rule, "-s") ?? flagValue(rule, "-d");
    const parsed = addr === undefined ? undefined : parseCidr(addr);
    return parsed !== undefined && parsed.prefix === 32 && subnetContains(subnet, parsed.ip);
  });
  await deleteAll("filter", filter, rules, []);
  return rules.length;
}

/**
 * The firewall plugin's shared chains, once no network uses them: CNI-FORWARD
 * holding nothing but the jump to an empty CNI-ADMIN. Another CNI user adding
 * its first rule at this very moment would see its chain vanish; the plugin
 * recreates the chains on its next ADD.
 */
export function removeUnusedForwardChains(): Promise<boolean> {
  return withHostLock(SHARED_CHAINS_LOCK, removeUnusedForwardChainsLocked);
}

async function removeUnusedForwardChainsLocked(): Promise<boolean> {
  const filter = await dumpTable("filter");
  if (!filter.chains.has(FORWARD_CHAIN)) return false;
  if (rulesOf(filter, FORWARD_CHAIN).some((r) => flagValue(r, "-j") !== ADMIN_CHAIN)) return false;
  if (rulesOf(filter, ADMIN_CHAIN).length > 0) return false;
  for (const rule of filter.rules) {
    if (flagValue(rule, "-j") === FORWARD_CHAIN) await deleteRule("filter", rule);
  }
  await removeChain("filter", FORWARD_CHAIN);
  if (filter.chains.has(ADMIN_CHAIN)) await removeChain("filter", ADMIN_CHAIN);
  return true;
}
