/**
 * Who may open connections to a service on the bridge. All namespaces of a
 * network share one bridge, so by default any of them reaches any other by
 * address; a service's address is kept for its own group (a session) and for
 * those that bind it explicitly, in an nftables table of the engine's own in
 * the `bridge` family, whose hooks see every frame crossing a bridge port
 * (`forward`: namespace to namespace; `input`: a namespace to an address of
 * the host on the bridge, where host services listen):
 *
 *   table bridge tanto-<hash of the state dir> {
 *     set isolated { type ipv4_addr }                 services' addresses
 *     set allowed  { type ipv4_addr . ipv4_addr }     source . destination pairs let through
 *     set ports    { type ifname }                    the host ends of our namespaces' links
 *     set bound    { type ifname . ipv4_addr }        each with its namespace's address
 *     chain prerouting { a frame from one of our ports with another source address
 *                        (IPv4 or ARP) is dropped: no namespace passes for another }
 *     chain forward { hook forward; ip saddr . ip daddr @allowed accept; ip daddr @isolated drop }
 *     chain input   { hook input;   the same }
 *   }
 *
 * Pairs are kept both ways, so a service's replies to a client that is itself
 * an isolated service get through. What is in the kernel mirrors what is in
 * memory: members (a namespace's address and its group, while in use),
 * isolated addresses (with their group) and explicit allows; every change is
 * diffed against what was applied and sent as one `nft -f -` batch, one batch
 * at a time. A group without services costs nothing: its members produce no
 * pairs, so no batch is sent.
 *
 * The table is created at start, replacing one a crashed engine left, and
 * deleted at close: nothing remains on the host.
 */
import { EngineError, messageOf } from "../errors.js";
import { runCommand } from "./command.js";
import type { NetworkLog } from "./types.js";

const NFT = "nft";
const SET_NAMES = ["isolated", "allowed", "ports", "bound"] as const;
type SetName = (typeof SET_NAMES)[number];

export class ServiceFirewall {
  /** nftables table name (family `bridge`). */
  readonly table: string;
  readonly #log: NetworkLog | undefined;
  /** Namespace address → the group it belongs to while in use. */
  readonly #members = new Map<string, string>();
  /** Service address → the group that may reach it. */
  readonly #isolated = new Map<string, string>();
  /** Source → destinations it was let through to (bindings), whatever its group. */
  readonly #allowed = new Map<string, Set<string>>();
  /** Host end of a namespace's link → the namespace's address, for as long as it is attached. */
  readonly #ports = new Map<string, string>();
  /** What the kernel's sets hold now, as nft writes their elements. */
  readonly #applied: Record<SetName, Set<string>> = { isolated: new Set(), allowed: new Set(), ports: new Set(), bound: new Set() };
  #queue: Promise<unknown> = Promise.resolve();
  #open = false;

  constructor(table: string, log?: NetworkLog) {
    if (!/^[a-zA-Z][\w-]{0,63}$/.test(table)) throw new EngineError(`invalid nftables table name "${table}"`);
    this.table = table;
    this.#log = log;
  }

  /** Remove a table left by an engine on the same state directory; true when there was one. */
  static async removeLeftover(table: string): Promise<boolean> {
    const r = await runCommand(NFT, ["delete", "table", "bridge", table]);
    if (r.code === 0) return true;
    if (/No such file or directory/i.test(r.stderr)) return false;
    throw new EngineError(`cannot remove nftables table bridge ${table}: ${nftError(r)}`);
  }

  /** Create the (empty) table, in place of one a crashed engine left: one transaction, one nft process (~30 ms). */
  async start(): Promise<void> {
    const rules = "ip saddr . ip daddr @allowed accept\n    ip daddr @isolated drop";
    await nft(
      [
        // Declaring the table first makes the delete succeed whether or not one was left.
        `table bridge ${this.table}`,
        `delete table bridge ${this.table}`,
        `table bridge ${this.table} {`,
        "  set isolated { type ipv4_addr; }",
        "  set allowed { type ipv4_addr . ipv4_addr; }",
        "  set ports { type ifname; }",
        "  set bound { type ifname . ipv4_addr; }",
        "  chain prerouting { type filter hook prerouting priority -10; policy accept;",
        "    iifname @ports iifname . ip saddr != @bound drop",
        "    iifname @ports iifname . arp saddr ip != @bound drop",
        "  }",
        `  chain forward { type filter hook forward priority 0; policy accept;\n    ${rules}\n  }`,
        `  chain input { type filter hook input priority 0; policy accept;\n    ${rules}\n  }`,
        "}",
      ].join("\n"),
      `cannot create nftables table bridge ${this.table} (service isolation; is the nftables package installed?)`,
    );
    this.#open = true;
    // Ports of namespaces attached while the table was being made.
    await this.#sync();
  }

  /** Delete the table and forget everything. */
  async close(): Promise<void> {
    this.#open = false;
    await this.#queue.catch(() => undefined);
    this.#members.clear();
    this.#isolated.clear();
    this.#allowed.clear();
    this.#ports.clear();
    for (const set of Object.values(this.#applied)) set.clear();
    await ServiceFirewall.removeLeftover(this.table);
  }

  /** The namespace at `ip` is one of `group`'s until `forget(ip)`; resolves once that is in force. */
  join(ip: string, group: string): Promise<void> {
    this.#members.set(ip, group);
    return this.#sync();
  }

  /** Only members of `group` and sources allowed explicitly may reach `ip` until `forget(ip)`. */
  isolate(ip: string, group: string): Promise<void> {
    this.#isolated.set(ip, group);
    return this.#sync();
  }

  /** `from` may reach the isolated `to` (a binding), whatever its group, until either is forgotten. */
  allow(from: string, to: string): Promise<void> {
    let tos = this.#allowed.get(from);
    if (!tos) this.#allowed.set(from, (tos = new Set()));
    tos.add(to);
    return this.#sync();
  }

  /** Frames from host port `port` (a namespace's link) must carry `ip` as their source, until `unbindPort`. */
  bindPort(port: string, ip: string): Promise<void> {
    if (!/^[\w.-]{1,15}$/.test(port)) return Promise.reject(new EngineError(`invalid interface name "${port}"`));
    this.#ports.set(port, ip);
    return this.#sync();
  }

  /** The namespace behind `port` is detached. */
  unbindPort(port: string): Promise<void> {
    this.#ports.delete(port);
    return this.#sync();
  }

  /** Drop everything about `ip` (its namespace is going back to the pool, or its host address away). */
  forget(ip: string): Promise<void> {
    this.#members.delete(ip);
    this.#isolated.delete(ip);
    this.#allowed.delete(ip);
    for (const [from, tos] of this.#allowed) {
      if (tos.delete(ip) && tos.size === 0) this.#allowed.delete(from);
    }
    // Nothing changed in the kernel's terms (a plain exec of a session without services): no batch is sent.
    return this.#sync();
  }

  /** Every set's elements, as the kernel should hold them (written as nft writes them). */
  desired(): Record<SetName, Set<string>> {
    const pairs = new Set<string>();
    const both = (a: string, b: string): void => {
      if (a === b) return;
      pairs.add(`${a} . ${b}`);
      pairs.add(`${b} . ${a}`);
    };
    for (const [member, group] of this.#members) {
      for (const [svc, owner] of this.#isolated) if (owner === group) both(member, svc);
    }
    for (const [from, tos] of this.#allowed) {
      for (const to of tos) if (this.#isolated.has(to)) both(from, to);
    }
    return {
      isolated: new Set(this.#isolated.keys()),
      allowed: pairs,
      ports: new Set([...this.#ports.keys()].map((p) => `"${p}"`)),
      bound: new Set([...this.#ports].map(([p, ip]) => `"${p}" . ${ip}`)),
    };
  }

  /**
   * Bring the kernel's sets to what memory says, after the batches before this
   * one. Changes made while a batch is waiting its turn join it: a burst of
   * joins and forgets (a hundred execs) computes and sends one batch, not one each.
   */
  #sync(): Promise<void> {
    if (this.#waiting !== undefined) return this.#waiting;
    const next = this.#queue
      .catch(() => undefined)
      .then(() => {
        this.#waiting = undefined;
        return this.#apply();
      });
    this.#waiting = next;
    this.#queue = next;
    return next;
  }

  /** The batch queued and not started yet, which a change can still join. */
  #waiting: Promise<void> | undefined;

  async #apply(): Promise<void> {
    if (!this.#open) return;
    const want = this.desired();
    const t = `bridge ${this.table}`;
    const changes = SET_NAMES.map((name) => ({
      name,
      add: [...want[name]].filter((e) => !this.#applied[name].has(e)),
      del: [...this.#applied[name]].filter((e) => !want[name].has(e)),
    }));
    // One batch is one nftables transaction: no packet sees it half applied.
    const lines = changes.flatMap(({ name, add, del }) => [
      ...(add.length > 0 ? [`add element ${t} ${name} { ${add.join(", ")} }`] : []),
      ...(del.length > 0 ? [`delete element ${t} ${name} { ${del.join(", ")} }`] : []),
    ]);
    if (lines.length === 0) return;
    try {
      await nft(lines.join("\n"), `cannot update service isolation in nftables table ${t}`);
    } catch (err) {
      this.#log?.warn("service isolation: nftables update failed", { error: messageOf(err) });
      throw err;
    }
    for (const { name, add, del } of changes) {
      for (const e of add) this.#applied[name].add(e);
      for (const e of del) this.#applied[name].delete(e);
    }
  }
}

/** One atomic nftables transaction from a script on stdin. */
async function nft(script: string, what: string): Promise<void> {
  const r = await runCommand(NFT, ["-f", "-"], { input: script + "\n" });
  if (r.code !== 0) throw new EngineError(`${what}: ${nftError(r)}`);
}

function nftError(r: { code: number; stdout: string; stderr: string }): string {
  return r.stderr.trim().split("\n")[0] || r.stdout.trim() || `nft exit code ${r.code}`;
}
