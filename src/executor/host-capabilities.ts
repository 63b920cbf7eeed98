/**
 * The capabilities this engine process may hand to a container: its own
 * bounding set. An engine inside a container (or a sandbox) often lacks a
 * few (CAP_SYS_RESOURCE, CAP_SYS_MODULE…), and runc fails the whole start
 * when asked for one it cannot grant.
 */
import { readFileSync } from "node:fs";
import { ALL_CAPABILITIES } from "../oci/runtime-spec.js";

let cached: readonly string[] | undefined;

export function heldCapabilities(): readonly string[] {
  if (cached !== undefined) return cached;
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("CapBnd:"));
  const mask = line === undefined ? undefined : BigInt(`0x${line.slice("CapBnd:".length).trim()}`);
  cached = mask === undefined ? ALL_CAPABILITIES : ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  return cached;
}
