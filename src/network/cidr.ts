/**
 * IPv4 subnets as numbers: parsing the network's CIDR, its gateway, and the
 * overlap test that keeps the bridge off addresses the host already routes.
 */
import { InvalidArgumentError } from "../errors.js";

export interface Ipv4Subnet {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parse "a.b.c.d/n"; `undefined` when it is not one. Host bits are kept as given. */
export function parseCidr(text: string): { ip: number; prefix: number } | undefined {
  const slash = text.indexOf("/");
  const ip = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  const prefixText = slash < 0 ? "32" : text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix > 32 ? undefined : { ip, prefix };
}

/** The network's subnet: a network address (no host bits) with room for a gateway and containers. */
export function parseSubnet(text: string): Ipv4Subnet {
  const parsed = parseCidr(text);
  if (parsed === undefined || !text.includes("/")) {
    throw new InvalidArgumentError(`invalid network CIDR "${text}": want an IPv4 subnet such as 10.87.0.0/16`);
  }
  if (parsed.prefix > 29) throw new InvalidArgumentError(`network CIDR "${text}" is too small: want a prefix of /29 or shorter`);
  if ((parsed.ip & ~mask(parsed.prefix)) >>> 0 !== 0) {
    const base = formatSubnet({ base: (parsed.ip & mask(parsed.prefix)) >>> 0, prefix: parsed.prefix });
    throw new InvalidArgumentError(`network CIDR "${text}" has host bits set: did you mean ${base}?`);
  }
  return { base: parsed.ip, prefix: parsed.prefix };
}

export function formatSubnet(s: Ipv4Subnet): string {
  return `${formatIpv4(s.base)}/${s.prefix}`;
}

/** The first host address: the bridge's own, as CNI's bridge plugin picks it. */
export function gatewayOf(s: Ipv4Subnet): string {
  return formatIpv4(s.base + 1);
}

export function subnetContains(s: Ipv4Subnet, ip: number): boolean {
  return (ip & mask(s.prefix)) >>> 0 === s.base;
}

export function subnetsOverlap(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  const m = mask(Math.min(a.prefix, b.prefix));
  return (a.base & m) >>> 0 === (b.base & m) >>> 0;
}
