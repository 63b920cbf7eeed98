/**
 * The network layer gives containers a network namespace on a bridge, and
 * names for the services among them. It knows nothing about containers:
 * the executor joins the namespace by path (`RunSpec.network = {netnsPath}`)
 * and binds the two files it hands out at /etc/resolv.conf and /etc/hosts.
 *
 * Lifecycle, for one engine:
 *
 *   start()  ── removes what a crashed engine left (namespaces, bridge,
 *               iptables rules, nftables table, dnsmasq), refuses a subnet that overlaps a
 *               host route, attaches the first namespace (which creates the
 *               bridge and its gateway address), starts the DNS server on that
 *               address, then fills the pool in the background
 *
 *   acquire() ─▶ NetworkNamespace ─▶ container(s) run in it ─▶ release(ns)
 *      │  a ready namespace from the pool, at once;            │  back to the pool after a
 *      │  the pool refills in the background. An empty pool    │  check that nothing in it
 *      │  attaches a new one on the spot (CNI ADD, ~70 ms).    │  changed, else detached
 *      │                                                       │  (CNI DEL, ~120 ms) and replaced
 *   register(name, ip) / unregister(name): names the DNS server answers for every
 *      namespace of the network (services); a name is visible once register resolves.
 *   isolate(ip, scope) / allow(from, to): a service's address answers only its own
 *      scope's namespaces and those allowed (service-firewall.ts), until released.
 *
 *   close()  ── detaches every namespace (released or not: stop the containers
 *               first), stops the DNS server, removes the bridge and the
 *               iptables rules and the nftables table; nothing of the network
 *               remains on the host.
 *
 * A namespace keeps its address for its whole life, across reuses, so an
 * address held by a registered name stays valid until the name's owner
 * releases the namespace. Unregister names before releasing.
 *
 *   const ns = await network.acquire({ signal, hostname: "web-3f2a" });
 *   try {
 *     await network.register("web-3f2a", ns.ip);
 *     await executor.run(id, { rootfs, process, network: { netnsPath: ns.path },
 *       mounts: [{ destination: "/etc/resolv.conf", type: "bind", source: ns.resolvConf, options: ["rbind", "ro"] },
 *                { destination: "/etc/hosts", type: "bind", source: ns.hostsFile, options: ["rbind", "ro"] }] });
 *   } finally {
 *     await network.unregister("web-3f2a");
 *     await network.release(ns);
 *   }
 */

/** One network namespace attached to the network, handed out by `acquire`. */
export interface NetworkNamespace {
  /** Unique among this network's namespaces; also its CNI container id and its name under /run/netns. */
  readonly id: string;
  /** Host path of the namespace (a bind-mounted nsfs file, /run/netns/<id>): what `RunSpec.network.netnsPath` takes. */
  readonly path: string;
  /** The namespace's IPv4 address on the bridge (no prefix length), stable across reuses. */
  readonly ip: string;
  /** Host path of a file to bind at /etc/resolv.conf: the network's DNS server and search domains. */
  readonly resolvConf: string;
  /** Host path of a file to bind at /etc/hosts: localhost, the hostname and the extra hosts asked for in `acquire`. */
  readonly hostsFile: string;
}

/** One /etc/hosts line beyond localhost, e.g. a service binding's alias. */
export interface HostEntry {
  name: string;
  ip: string;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Written to the hosts file with the namespace's address (the container's own name). */
  hostname?: string;
  /** More hosts-file lines, e.g. service aliases; names are checked as hostnames. */
  extraHosts?: readonly HostEntry[];
  /** Search domains tried before the network's own, e.g. a session's. */
  searchDomains?: readonly string[];
  /**
   * Names registered in this scope (see scope.ts) resolve by their short name here, first; and
   * services isolated for this scope (a session) are reachable from the namespace while it is in use.
   */
  scope?: string;
}

export interface ReleaseOptions {
  /** The namespace may have been changed (a privileged container ran in it): detach it instead of reusing it. */
  discard?: boolean;
}

/** Hands out attached namespaces and takes them back. */
export interface NamespacePool {
  /** A ready namespace; no container must be using it. The files it names are rewritten for this use. */
  acquire(opts?: AcquireOptions): Promise<NetworkNamespace>;
  /**
   * Give back a namespace once every container in it is gone. Resolves at
   * once; checking and recycling happen in the background.
   */
  release(ns: NetworkNamespace, opts?: ReleaseOptions): Promise<void>;
}

/**
 * Names the network's DNS server answers for, in every namespace: `name` and
 * `name.<domain>`. Names are hostnames (letters, digits, "-", dot-separated
 * labels); registering a name again with the same address is a no-op, with
 * another address an error.
 */
export interface NameRegistry {
  /** Resolves once the DNS server answers for `name`. */
  register(name: string, ip: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Resolves once the DNS server no longer answers for `name`; unknown names are ignored. */
  unregister(name: string, opts?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * Services' addresses are reachable only from their own scope's namespaces
 * and from those let in explicitly (the namespaces of execs that bind them):
 * everything else on the bridge is dropped. Both last until the namespace
 * at the address is released (or the host address removed).
 */
export interface ServiceIsolation {
  /** Only namespaces acquired with `scope` and sources `allow`ed may open connections to `ip`. */
  isolate(ip: string, scope: string): Promise<void>;
  /** The namespace at `from` may reach the isolated `to`, whatever its scope. */
  allow(from: string, to: string): Promise<void>;
}

/** Where a network lives, for callers that print or check it. */
export interface NetworkInfo {
  /** The network name (CNI's `name`; iptables comments carry it). */
  readonly name: string;
  /** Linux bridge device. */
  readonly bridge: string;
  /** IPv4 subnet in CIDR notation. */
  readonly subnet: string;
  /** The bridge's address: the namespaces' default gateway and DNS server. */
  readonly gateway: string;
  /** The search domain registered names live in. */
  readonly domain: string;
}

export interface Network extends NamespacePool, NameRegistry, NetworkInfo, ServiceIsolation {
  /** An extra address on the bridge in the host's namespace, for the engine to listen on (host services); `remove` also ends its isolation. */
  addHostAddress(): Promise<{ ip: string; remove(): Promise<void> }>;
  /** Detach everything and remove every trace of the network from the host. */
  close(opts?: { signal?: AbortSignal }): Promise<void>;
}

/** What the network layer reports that is worth a log line but not an error. */
export interface NetworkLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}
