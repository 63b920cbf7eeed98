/**
 * Values of Dockerfile instructions as a build reads them: `--chown` and
 * `--chmod` of COPY, EXPOSE's port specs, and the automatic platform ARGs.
 */
import { InvalidArgumentError } from "../errors.js";
import { parsePlatform } from "../oci/platform.js";

/** `--chown`: a lone numeric uid is also the gid, as in Docker. */
export function chownSpec(spec: string): string {
  if (spec === "") throw new InvalidArgumentError("--chown needs a user: --chown=user[:group]");
  return /^[0-9]+$/.test(spec) ? `${spec}:${spec}` : spec;
}

export function parseChmod(spec: string): number {
  if (!/^[0-7]{3,4}$/.test(spec)) throw new InvalidArgumentError(`invalid --chmod "${spec}": want octal permissions like 755 or 0644`);
  return parseInt(spec, 8);
}

/** `80`, `80/tcp`, `53/udp`, `8000-8002/tcp`. */
export function parsePorts(spec: string): Array<{ port: number; protocol: "TCP" | "UDP" }> {
  const m = /^([0-9]+)(?:-([0-9]+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (!m || first < 1 || last > 65535 || last < first) throw new InvalidArgumentError(`invalid EXPOSE port "${spec}": want port[-port][/tcp|udp]`);
  if (m[3]?.toLowerCase() === "sctp") throw new InvalidArgumentError(`unsupported EXPOSE protocol in "${spec}": only tcp and udp`);
  const protocol = m[3]?.toLowerCase() === "udp" ? "UDP" : "TCP";
  return Array.from({ length: last - first + 1 }, (_, i) => ({ port: first + i, protocol }));
}

/**
 * TARGETPLATFORM, TARGETOS, … for the platform built for, and the BUILD*
 * twins for the engine's own (what `FROM --platform=$BUILDPLATFORM` runs
 * natively). Spelled as BuildKit does: arm64's implied v8 is left out.
 */
export function platformArgs(target: string, build: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [prefix, spec] of [
    ["TARGET", target],
    ["BUILD", build],
  ] as const) {
    const p = parsePlatform(spec);
    const variant = p.architecture === "arm64" && p.variant === "v8" ? "" : (p.variant ?? "");
    out.set(`${prefix}PLATFORM`, [p.os, p.architecture, ...(variant ? [variant] : [])].join("/"));
    out.set(`${prefix}OS`, p.os);
    out.set(`${prefix}ARCH`, p.architecture);
    out.set(`${prefix}VARIANT`, variant);
  }
  return out;
}
