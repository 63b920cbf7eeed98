/**
 * Where requests for a reference go: the registry itself (Docker Hub's API
 * host for docker.io) and, for pulls, the mirrors configured for its domain,
 * each with its scheme (plain HTTP when configured, or for loopback hosts)
 * and TLS settings.
 */
import { InvalidArgumentError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { DEFAULT_DOMAIN, type Reference } from "../oci/reference.js";
import type { TlsOptions } from "./http-transport.js";
import type { RegistryHosts } from "./types.js";

export const DOCKER_HUB_API_HOST = "registry-1.docker.io";

/** One place to send requests for a reference: a mirror or the registry itself. */
export interface Endpoint {
  /** `host[:port]` as used in URLs, auth state and TLS settings. */
  host: string;
  /** `<scheme>://<host>[/prefix]/v2/` */
  base: URL;
  mirror: boolean;
  /** The name credentials are looked up by. */
  credentialsHost: string;
}

export function originEndpoint(hosts: RegistryHosts, ref: Reference): Endpoint {
  const host = ref.domain === DEFAULT_DOMAIN ? DOCKER_HUB_API_HOST : ref.domain;
  const cfg = hosts[ref.domain] ?? {};
  const scheme = cfg.http || isLoopback(host) ? "http" : "https";
  return { host, base: new URL(`${scheme}://${host}/v2/`), mirror: false, credentialsHost: ref.domain };
}

export function mirrorEndpoints(hosts: RegistryHosts, ref: Reference): Endpoint[] {
  return (hosts[ref.domain]?.mirrors ?? []).map((spec) => {
    const explicit = /^https?:\/\//i.test(spec);
    let url: URL;
    try {
      url = new URL(explicit ? spec : `http://${spec}`);
    } catch {
      throw new InvalidArgumentError(`invalid mirror "${spec}" for ${ref.domain}: want host[:port][/path], optionally with http:// or https://`);
    }
    const host = url.host;
    const cfg = hosts[host] ?? {};
    const scheme = explicit ? url.protocol.slice(0, -1) : cfg.http || isLoopback(host) ? "http" : "https";
    const prefix = url.pathname.replace(/\/+$/, "");
    return { host, base: new URL(`${scheme}://${host}${prefix}/v2/`), mirror: true, credentialsHost: host };
  });
}

export function tlsFor(hosts: RegistryHosts, host: string): TlsOptions {
  const cfg = hosts[host] ?? (host === DOCKER_HUB_API_HOST ? hosts[DEFAULT_DOMAIN] : undefined);
  if (cfg === undefined) return {};
  return { ...(cfg.insecure ? { insecure: true } : {}), ...(cfg.ca ? { ca: cfg.ca } : {}) };
}

export function repoBase(ep: Endpoint, ref: Reference): URL {
  return new URL(`${ref.repository}/`, ep.base);
}

export function blobUrl(ep: Endpoint, ref: Reference, digest: Digest): URL {
  return new URL(`blobs/${digest}`, repoBase(ep, ref));
}

/** 127.0.0.0/8, localhost and [::1] speak plain HTTP, as Docker allows for local registries. */
export function isLoopback(host: string): boolean {
  const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "");
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
