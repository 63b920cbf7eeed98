/**
 * `Network` on CNI with Debian's plugins (containernetworking-plugins, in
 * /usr/lib/cni) and dnsmasq. One plugin list per network:
 *
 *   bridge    a Linux bridge named after the network, the gateway address on
 *             it, a veth into each namespace, outbound traffic masqueraded;
 *             addresses from host-local IPAM, whose reservations live in our
 *             state directory
 *   tuning    turns IPv6 off on the namespace's eth0 (no link-local address
 *             around the isolation below)
 *   firewall  ACCEPT rules for each address in FORWARD (through the shared
 *             CNI-FORWARD chain), needed where dockerd set FORWARD to DROP
 *   loopback  brings lo up in the namespace (it passes the result on)
 *
 * Services are isolated to their session by an nftables table of the
 * network's own (service-firewall.ts): a namespace joins its session while in
 * use (acquire's `scope`), and leaves it, with whatever it was allowed, when
 * released.
 *
 * Namespaces are named `tanto-<hash of the state dir>-<n>` (ip netns), so
 * that two engines never touch each other's and a crashed engine's are
 * found at the next start. The ADD result of each is kept in the state
 * directory until its DEL, which needs it.
 *
 * State directory layout:
 *   network.json           name, bridge and subnet in use (cleanup after a config change)
 *   cni/ipam/<name>/       host-local's address reservations
 *   cni/results/<id>.json  ADD results
 *   netns/<id>/            resolv.conf and hosts handed to containers
 *   dns/                   dnsmasq's config, pid file and hosts file
 *   (the nftables table bridge tanto-<hash> is named like the namespaces)
 *
 * Costs on the dev machine (2 cores, busy): `ip netns add` ~3 ms, CNI ADD
 * ~55-80 ms, DEL ~105-130 ms; acquiring from the pool ~0.05 ms (a plain
 * acquire's resolver files are written when the namespace is made). The
 * recycle check on release runs in the background. close() (and the sweep
 * after a crash) does no DEL: 60 namespaces go in ~0.3-1.5 s, not 10-14 s.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { EngineError, FailedPreconditionError, messageOf } from "../errors.js";
import { type Attachment, Attachments } from "./attachments.js";
import { bridgeConfList, checkRoutes, type RecordedNetwork, removeHostState } from "./bridge-state.js";
import type { Ipv4Subnet } from "./cidr.js";
import { CniPlugins, hostPortOf } from "./cni-plugins.js";
import { type CniNetworkOptions, firewallTable, resolveCniSettings } from "./cni-settings.js";
import { DnsmasqServer } from "./dnsmasq-server.js";
import { HostAddresses } from "./host-addresses.js";
import { cleanupLeftovers, type LeftoverReport } from "./leftovers.js";
import { deleteNetnsMany } from "./netns.js";
import { ReadyPool } from "./ready-pool.js";
import { checkHostname, checkIpv4, parseNameservers, renderHosts, renderResolvConf } from "./resolver-files.js";
import { scopeLabel } from "./scope.js";
import { ServiceFirewall } from "./service-firewall.js";
import { runSteps } from "./steps.js";
import type { AcquireOptions, HostEntry, Network, NetworkNamespace, ReleaseOptions } from "./types.js";

export interface NetworkStats {
  ready: number;
  inUse: number;
  /** Recent CNI ADD / DEL durations in ms, oldest first. */
  addMs: number[];
  delMs: number[];
}

export class CniNetwork implements Network {
  readonly name: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly domain: string;
  readonly stateDir: string;
  /** Every namespace of this network is named with this prefix. */
  readonly prefix: string;

  readonly #opts: CniNetworkOptions;
  readonly #subnet: Ipv4Subnet;
  readonly #plugins: CniPlugins;
  readonly #dns: DnsmasqServer;
  readonly #pool: ReadyPool<Attachment>;
  readonly #attached: Attachments;
  readonly #firewall: ServiceFirewall;
  readonly #hostAddresses: HostAddresses;
  #state: "new" | "starting" | "running" | "closed" = "new";

  constructor(opts: CniNetworkOptions) {
    this.#opts = opts;
    const settings = resolveCniSettings(opts);
    this.name = settings.name;
    this.bridge = settings.bridge;
    this.gateway = settings.gateway;
    this.domain = settings.domain;
    this.stateDir = settings.stateDir;
    this.prefix = settings.prefix;
    this.#subnet = settings.subnet;
    this.subnet = settings.cidr;
    const poolSize = settings.poolSize;
    this.#firewall = new ServiceFirewall(firewallTable(this.prefix), opts.log);
    this.#hostAddresses = new HostAddresses(this.name, this.bridge, this.#subnet);
    this.#plugins = new CniPlugins(bridgeConfList(this.stateDir, this.name, this.bridge, this.#subnet), opts.cniPath ?? "/usr/lib/cni");
    this.#dns = new DnsmasqServer({
      dir: path.join(this.stateDir, "dns"),
      listenAddress: this.gateway,
      domain: this.domain,
      upstreams: [],
      ...(opts.dnsmasqPath === undefined ? {} : { binary: opts.dnsmasqPath }),
      ...(opts.log === undefined ? {} : { log: opts.log }),
    });
    this.#attached = new Attachments({
      network: this.name,
      prefix: this.prefix,
      stateDir: this.stateDir,
      subnetPrefix: this.#subnet.prefix,
      plugins: this.#plugins,
      // The files for a plain acquire, written now so that handing the namespace out costs no I/O;
      // and its link's host end bound to its address (no namespace passes for another).
      prepare: async (a) => {
        await this.#writeResolverFiles(a, [], undefined, []);
        const port = hostPortOf(a.result, this.bridge);
        if (port === undefined) throw new EngineError(`CNI ADD of "${a.id}" on network "${this.name}" named no host interface: ${JSON.stringify(a.result)}`);
        await this.#firewall.bindPort(port, a.ip).catch(async (err: unknown) => {
          await this.#firewall.unbindPort(port).catch(() => undefined);
          throw err;
        });
      },
      ...(opts.log === undefined ? {} : { log: opts.log }),
    });
    this.#pool = new ReadyPool<Attachment>({
      size: poolSize,
      maxIdle: poolSize * 2,
      create: () => this.#attached.attach(),
      destroy: (a) => this.#detach(a),
      recycle: (a) => this.#attached.isClean(a),
      onError: (err, during) => opts.log?.warn(`network ${this.name}: namespace ${during} failed`, { error: messageOf(err) }),
    });
  }

  /** Repair what a previous engine left, check the subnet, attach the first namespace, start DNS, fill the pool. */
  async start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#prepare(opts);
    await this.#bringUp(opts);
  }

  /**
   * The same, but only the repair and the checks before returning (so a bad
   * subnet still stops the engine at start); attaching and DNS go on in the
   * background, and whatever needs them waits.
   */
  async startInBackground(): Promise<void> {
    await this.#prepare({});
    this.#up = this.#bringUp({});
    this.#up.catch((err: unknown) => this.#opts.log?.warn(`network ${this.name}: could not start`, { error: messageOf(err) }));
  }

  #up: Promise<void> | undefined;

  /** Wait for a background start to finish (no-op otherwise). */
  async #ready(): Promise<void> {
    if (this.#state === "starting" && this.#up) await this.#up;
  }

  async #prepare(opts: { signal?: AbortSignal }): Promise<void> {
    if (this.#state !== "new") throw new FailedPreconditionError(`network "${this.name}" was already started`);
    this.#state = "starting";
    try {
      await fs.mkdir(this.stateDir, { recursive: true, mode: 0o711 });
      await fs.chmod(this.stateDir, 0o711);
      // Not the nftables table: `#bringUp` replaces it in the background (nft takes ~30 ms to start).
      const report = await this.#cleanupLeftovers(opts, false);
      if (report.namespaces > 0 || report.dnsmasqPid !== undefined || report.sweptRules > 0 || report.bridges.length > 0 || report.firewallTable) {
        this.#opts.log?.warn(`network ${this.name}: removed what a previous engine left`, { ...report, bridges: report.bridges.join(",") });
      }
      await checkRoutes(this.#subnet, this.bridge);
      const recorded: RecordedNetwork = { name: this.name, bridge: this.bridge, subnet: this.subnet };
      await fs.writeFile(path.join(this.stateDir, "network.json"), JSON.stringify(recorded) + "\n");
    } catch (err) {
      await this.close().catch((e: unknown) => this.#opts.log?.warn(`network ${this.name}: cleanup after a failed start failed`, { error: messageOf(e) }));
      throw err;
    }
  }

  async #bringUp(opts: { signal?: AbortSignal }): Promise<void> {
    try {
      // The first ADD creates the bridge and puts the gateway address on it, which dnsmasq binds to.
      const [first] = await Promise.all([this.#attached.attach(opts), this.#firewall.start()]);
      const upstreams = parseNameservers(await fs.readFile(this.#opts.hostResolvConf ?? "/etc/resolv.conf", "utf8").catch(() => ""));
      this.#dns.setUpstreams(upstreams);
      await this.#dns.start(opts);
      this.#state = "running";
      this.#pool.add(first);
      this.#pool.fill();
    } catch (err) {
      this.#up = undefined; // close() must not wait for this very start
      await this.close().catch((e: unknown) => this.#opts.log?.warn(`network ${this.name}: cleanup after a failed start failed`, { error: messageOf(e) }));
      throw err;
    }
  }

  async acquire(opts: AcquireOptions = {}): Promise<NetworkNamespace> {
    await this.#ready();
    if (this.#state !== "running") throw new FailedPreconditionError(`network "${this.name}" is not running`);
    if (opts.hostname !== undefined) checkHostname(opts.hostname, "hostname");
    for (const h of opts.extraHosts ?? []) {
      checkHostname(h.name, "host name");
      checkIpv4(h.ip, `address of host "${h.name}"`);
    }
    for (const d of opts.searchDomains ?? []) checkHostname(d, "search domain");
    const search = [...(opts.scope === undefined ? [] : [`${scopeLabel(opts.scope)}.${this.domain}`]), ...(opts.searchDomains ?? [])];

    const a = await this.#pool.acquire(opts.signal === undefined ? {} : { signal: opts.signal });
    if (this.#state !== "running") throw new FailedPreconditionError(`network "${this.name}" was closed`);
    a.inUse = true;
    try {
      const own = opts.hostname === undefined ? undefined : { name: opts.hostname, ip: a.ip };
      await this.#writeResolverFiles(a, search, own, opts.extraHosts ?? []);
    } catch (err) {
      a.inUse = false;
      this.#pool.release(a);
      throw new EngineError(`cannot write resolver files of network namespace "${a.id}": ${messageOf(err)}`, { cause: err });
    }
    if (opts.scope !== undefined) {
      try {
        await this.#firewall.join(a.ip, opts.scope);
      } catch (err) {
        a.inUse = false;
        this.#pool.release(a, { discard: true });
        throw err;
      }
    }
    return Object.freeze({ id: a.id, path: a.path, ip: a.ip, resolvConf: a.resolvConf.path, hostsFile: a.hosts.path });
  }

  /** Write the files only when their text changes: the usual acquire (no hostname, no extras) writes nothing. */
  async #writeResolverFiles(a: Attachment, search: readonly string[], own: HostEntry | undefined, extra: readonly HostEntry[]): Promise<void> {
    const resolvText = renderResolvConf(this.gateway, [...search, this.domain]);
    const hostsText = renderHosts(own, extra);
    const writes: Promise<void>[] = [];
    for (const [file, text] of [
      [a.resolvConf, resolvText],
      [a.hosts, hostsText],
    ] as const) {
      if (file.text === text) continue;
      file.text = undefined;
      writes.push(fs.writeFile(file.path, text, { mode: 0o644 }).then(() => void (file.text = text)));
    }
    await Promise.all(writes);
  }

  release(ns: NetworkNamespace, opts: ReleaseOptions = {}): Promise<void> {
    const a = this.#attached.get(ns.id);
    if (a === undefined || !a.inUse) {
      return Promise.reject(new FailedPreconditionError(`network namespace "${ns.id}" is not in use on network "${this.name}"`));
    }
    a.inUse = false;
    // Its address leaves its scope and loses any isolation before anyone else can get it: it goes
    // back to the pool after that (in the background; close() detaches whatever is not back yet).
    void this.#firewall.forget(a.ip).then(
      () => this.#state === "running" && this.#pool.release(a, opts.discard === true ? { discard: true } : {}),
      (err: unknown) => {
        this.#opts.log?.warn(`network ${this.name}: namespace discarded: its isolation could not be lifted`, { id: a.id, error: messageOf(err) });
        if (this.#state === "running") this.#pool.release(a, { discard: true });
      },
    );
    return Promise.resolve();
  }

  async #detach(a: Attachment): Promise<void> {
    try {
      await this.#attached.detach(a);
    } finally {
      const port = hostPortOf(a.result, this.bridge);
      if (port !== undefined) await this.#firewall.unbindPort(port);
    }
  }

  async isolate(ip: string, scope: string): Promise<void> {
    await this.#ready();
    checkIpv4(ip, "isolated address");
    await this.#firewall.isolate(ip, scope);
  }

  async allow(from: string, to: string): Promise<void> {
    await this.#ready();
    checkIpv4(from, "allowed source");
    checkIpv4(to, "allowed destination");
    await this.#firewall.allow(from, to);
  }

  /** The nftables table that isolates services (tests look for it). */
  get firewallTable(): string {
    return this.#firewall.table;
  }

  register(name: string, ip: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#dns.register(name, ip, opts);
  }

  unregister(name: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#dns.unregister(name, opts);
  }

  stats(): NetworkStats {
    let inUse = 0;
    for (const a of this.#attached.values()) if (a.inUse) inUse++;
    return { ready: this.#pool.readyCount, inUse, addMs: [...this.#attached.addMs], delMs: [...this.#attached.delMs] };
  }

  /** The DNS server's pid while it runs (tests count processes). */
  get dnsPid(): number | undefined {
    return this.#dns.pid;
  }

  /** An extra address on the bridge for a host service (host-addresses.ts); removing it ends its isolation. */
  async addHostAddress(): Promise<{ ip: string; remove(): Promise<void> }> {
    await this.#ready();
    return this.#hostAddresses.add((ip) => this.#firewall.forget(ip));
  }

  async close(): Promise<void> {
    // A background start finishes first, so that what it made is undone.
    const up = this.#up;
    this.#up = undefined;
    if (up && this.#state === "starting") await up.catch(() => undefined);
    if (this.#state === "closed") return;
    const wasStarted = this.#state !== "new";
    this.#state = "closed";
    if (!wasStarted) return;
    // What each DEL (four plugin processes) would undo goes all at once: the namespaces in one `ip`
    // batch (their links with them); the nftables table in one transaction; the bridge, its iptables
    // rules (an iptables-restore a table), and the IPAM reservations with the state directory.
    const done = await runSteps([["pool", () => this.#pool.drain()]]);
    const all = this.#attached.takeAll();
    const links = all.flatMap((a) => hostPortOf(a.result, this.bridge) ?? []);
    const recorded = [{ name: this.name, bridge: this.bridge, subnet: this.subnet }];
    const names = all.map((a) => a.id);
    const steps = [
      ["namespaces", () => deleteNetnsMany(names, links)],
      ["dns", () => this.#dns.stop()],
      ["nftables", () => this.#firewall.close()],
      ["host_state", () => removeHostState(this.stateDir, recorded, this.#opts.log)],
    ] as const;
    await runSteps(steps, done);
    // The state (network.json) goes last and only when all the rest did: the next start sweeps fully when it finds it.
    if (done.errors.length === 0) await runSteps([["state_dir", () => fs.rm(this.stateDir, { recursive: true, force: true })]], done);
    this.#opts.log?.debug(`network ${this.name}: closed`, { namespaces: all.length, ...done.timings });
    if (done.errors.length > 0) {
      throw new EngineError(`network "${this.name}" did not close cleanly: ${done.errors.map(messageOf).join("; ")}`, { cause: done.errors[0] });
    }
  }

  /**
   * Remove everything a previous engine on this state directory left: its
   * dnsmasq, its namespaces (in bulk, as close() does), the iptables rules of
   * its network, its bridge. Refuses to remove a bridge that still has
   * ports after that: it belongs to another engine using the same network
   * name.
   */
  cleanupLeftovers(opts: { signal?: AbortSignal } = {}): Promise<LeftoverReport> {
    return this.#cleanupLeftovers(opts, true);
  }

  #cleanupLeftovers(opts: { signal?: AbortSignal }, withFirewall: boolean): Promise<LeftoverReport> {
    const ours = { name: this.name, bridge: this.bridge, subnet: this.subnet };
    return cleanupLeftovers(
      {
        stateDir: this.stateDir,
        prefix: this.prefix,
        ...(withFirewall ? { firewallTable: this.#firewall.table } : {}),
        ours,
        ...(this.#opts.log ? { log: this.#opts.log } : {}),
      },
      opts,
    );
  }
}
