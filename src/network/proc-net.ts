/**
 * The host's links and IPv4 routes as the kernel lists them in /proc/net (the
 * network namespace of the reading process, as `ip` sees it): a read of a
 * small file where `ip link show` or `ip route show` would cost a process
 * each (the start's network checks ran two).
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import { formatIpv4, type Ipv4Subnet } from "./cidr.js";

/** An IPv4 route of the main table: its destination and the device it goes through ("?" for none, e.g. blackhole). */
export interface HostRoute {
  dst: string;
  dev: string;
  subnet: Ipv4Subnet;
}

/** Whether a link named `dev` exists (the names of /proc/net/dev, one per line before a colon). */
export async function linkExists(dev: string): Promise<boolean> {
  const text = await fs.readFile("/proc/net/dev", "utf8");
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim() === dev) return true;
  }
  return false;
}

/**
 * The main table's IPv4 routes but the default one, as `ip -4 route show` lists them
 * (/proc/net/route: the kernel prints each address as the 32-bit number holding it in
 * network order, so its hex digits come byte-swapped on a little-endian host).
 */
export async function mainRoutes(): Promise<HostRoute[]> {
  return parseProcRoutes(await fs.readFile("/proc/net/route", "utf8"), os.endianness());
}

export function parseProcRoutes(text: string, endianness: "BE" | "LE"): HostRoute[] {
  const routes: HostRoute[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dst = addressOf(f[1]!, endianness);
    const mask = addressOf(f[7]!, endianness);
    if (dst === undefined || mask === undefined) throw new Error(`/proc/net/route: cannot read the line ${JSON.stringify(line)}`);
    const prefix = prefixOf(mask);
    if (prefix === 0) continue;
    routes.push({ dst: `${formatIpv4(dst)}/${prefix}`, dev: f[0] === "*" ? "?" : f[0]!, subnet: { base: dst, prefix } });
  }
  return routes;
}

function addressOf(hex: string, endianness: "BE" | "LE"): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = Number.parseInt(hex, 16);
  return endianness === "BE" ? n : (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

/** The prefix length of a contiguous mask (a route's mask always is). */
function prefixOf(mask: number): number {
  let prefix = 0;
  for (let bit = 31; bit >= 0 && (mask >>> bit) & 1; bit--) prefix++;
  return prefix;
}
