/**
 * The settings of a CNI network (cni-network.ts), checked and resolved once,
 * before anything runs: the names it is known by (network, bridge, the
 * namespace prefix and the nftables table derived from the state directory),
 * its subnet and gateway, the DNS domain and the pool size. A bad value is
 * refused here, naming it, so that a network that constructs has settings
 * it can use.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { bridgeName, NETWORK_NAME_RE } from "./bridge-state.js";
import { formatSubnet, gatewayOf, type Ipv4Subnet, parseSubnet } from "./cidr.js";
import { checkHostname } from "./resolver-files.js";
import type { NetworkLog } from "./types.js";

export const DEFAULT_NETWORK_NAME = "tanto";
export const DEFAULT_NETWORK_CIDR = "10.87.0.0/16";
export const DEFAULT_POOL_SIZE = 4;
export const DEFAULT_DOMAIN = "tanto.internal";
const MAX_POOL_SIZE = 256;

export interface CniNetworkOptions {
  /** Directory private to this network (e.g. <engine root>/network); its path also names the namespaces. */
  stateDir: string;
  /** Network name: CNI's `name`, in iptables comments, and the bridge's name. Default "tanto". */
  name?: string;
  /** IPv4 subnet; must not overlap a host route. Default 10.87.0.0/16. */
  subnet?: string;
  /** Ready namespaces to keep. Default 4; 0 attaches one per acquire. */
  poolSize?: number;
  /** Search domain of registered names. Default "tanto.internal". */
  domain?: string;
  cniPath?: string;
  dnsmasqPath?: string;
  /** Where the host's nameservers come from. Default /etc/resolv.conf. */
  hostResolvConf?: string;
  log?: NetworkLog;
}

/** What a network is, once its options are checked. */
export interface CniSettings {
  readonly name: string;
  readonly bridge: string;
  readonly subnet: Ipv4Subnet;
  /** The subnet as CIDR text, normalised. */
  readonly cidr: string;
  readonly gateway: string;
  readonly domain: string;
  readonly poolSize: number;
  /** Absolute. */
  readonly stateDir: string;
  /** Every namespace of the network is named with this prefix ("tanto-<hash of stateDir>-"). */
  readonly prefix: string;
}

/** Check `opts` and fill in the defaults; throws InvalidArgumentError naming the bad value. */
export function resolveCniSettings(opts: CniNetworkOptions): CniSettings {
  const name = opts.name ?? DEFAULT_NETWORK_NAME;
  if (!NETWORK_NAME_RE.test(name) || name.length > 64) {
    throw new InvalidArgumentError(`invalid network name "${name}": want letters, digits, "_", "." and "-", at most 64 characters`);
  }
  const subnet = parseSubnet(opts.subnet ?? DEFAULT_NETWORK_CIDR);
  const domain = opts.domain ?? DEFAULT_DOMAIN;
  checkHostname(domain, "network domain");
  const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 0 || poolSize > MAX_POOL_SIZE) {
    throw new InvalidArgumentError(`invalid network pool size ${poolSize}: want an integer from 0 to ${MAX_POOL_SIZE}`);
  }
  const stateDir = path.resolve(opts.stateDir);
  return {
    name,
    bridge: bridgeName(name),
    subnet,
    cidr: formatSubnet(subnet),
    gateway: gatewayOf(subnet),
    domain,
    poolSize,
    stateDir,
    prefix: `tanto-${createHash("sha256").update(stateDir).digest("hex").slice(0, 8)}-`,
  };
}

/** The nftables table of the network whose namespaces are named with `prefix` ("tanto-<hash>-"). */
export function firewallTable(prefix: string): string {
  return prefix.replace(/-$/, "");
}
