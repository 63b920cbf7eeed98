/**
 * The name-resolution files a container gets (/etc/resolv.conf, /etc/hosts)
 * and the DNS server's hosts file, as text; plus the hostname rule they all
 * share, so that a bad name is refused where it comes in rather than
 * silently ignored by a resolver later.
 */
import { InvalidArgumentError } from "../errors.js";
import { parseIpv4 } from "./cidr.js";
import type { HostEntry } from "./types.js";

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isHostname(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split(".").every((l) => LABEL.test(l));
}

/** Throw unless `name` is a hostname; `what` says where it came from ("service name", "hostname"). */
export function checkHostname(name: string, what: string): void {
  if (!isHostname(name)) {
    throw new InvalidArgumentError(`invalid ${what} "${name}": want letters, digits and "-", in dot-separated labels of at most 63 characters`);
  }
}

export function checkIpv4(ip: string, what: string): void {
  if (parseIpv4(ip) === undefined) throw new InvalidArgumentError(`invalid ${what} "${ip}": want an IPv4 address`);
}

export function renderResolvConf(nameserver: string, search: readonly string[]): string {
  const domains = [...new Set(search)];
  return `nameserver ${nameserver}\n${domains.length > 0 ? `search ${domains.join(" ")}\n` : ""}`;
}

/** A container's /etc/hosts: localhost first, then its own name, then the extra entries in order. */
export function renderHosts(own: HostEntry | undefined, extra: readonly HostEntry[]): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
  for (const e of own === undefined ? extra : [own, ...extra]) lines.push(`${e.ip}\t${e.name}`);
  return lines.join("\n") + "\n";
}

/** The names a registered `name` is answered under: itself and its name in `domain`. */
export function namesIn(name: string, domain: string): string[] {
  const lower = name.toLowerCase();
  const suffix = `.${domain.toLowerCase()}`;
  return lower.endsWith(suffix) ? [lower, lower.slice(0, -suffix.length)] : [lower, lower + suffix];
}

/** Nameservers of a resolv.conf text, in order; link-local IPv6 with a zone is skipped (dnsmasq cannot take the zone). */
export function parseNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m?.[1] !== undefined && !m[1].includes("%")) out.push(m[1]);
  }
  return out;
}
