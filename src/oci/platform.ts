/**
 * Platforms (`linux/arm64/v8`) and choosing the manifest for one out of an
 * index. Values are normalised before comparing, because registries and
 * tools spell the same machine differently (`aarch64`, `arm64`, `arm64/v8`).
 */
import { InvalidArgumentError } from "../errors.js";
import type { Descriptor, Index, Platform } from "./image.js";
import { isIndex, isManifest } from "./media-types.js";

export type { Platform } from "./image.js";

const ARCH_ALIASES: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
};

const SEGMENT = /^[A-Za-z0-9_.-]+$/;

/** `os/arch[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !SEGMENT.test(p))) {
    throw new InvalidArgumentError(`invalid platform "${spec}": want os/arch[/variant], like linux/amd64 or linux/arm64/v8`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/**
 * As Dagger (containerd) prints a platform: the implied variants (`v8` of
 * arm64) are left out, so `linux/arm64`, never `linux/arm64/v8`.
 */
export function formatPlatform(p: Platform): string {
  const implied = p.architecture === "arm64" && p.variant === "v8";
  return p.variant && !implied ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The platform of the machine running this process, in OCI spelling. */
export function hostPlatform(): Platform {
  const os = process.platform === "win32" ? "windows" : process.platform;
  switch (process.arch) {
    case "x64":
      return { os, architecture: "amd64" };
    case "arm64":
      return { os, architecture: "arm64", variant: "v8" };
    case "arm":
      return { os, architecture: "arm", variant: "v7" };
    case "ia32":
      return { os, architecture: "386" };
    case "ppc64":
      // Node reports ppc64 on little-endian Power too, the only one Linux images target.
      return { os, architecture: "ppc64le" };
    default:
      return normalizePlatform({ os, architecture: process.arch });
  }
}

/**
 * The canonical spelling: lower-case, aliases resolved, arm64 with its
 * implied `v8`, arm with its implied `v7`, amd64 without a variant.
 */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === "macos") os = "darwin";
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant = variant ?? alias.variant;
  }
  if (variant !== undefined && /^[0-9]+$/.test(variant)) variant = `v${variant}`;
  switch (architecture) {
    case "amd64":
      variant = undefined;
      break;
    case "arm64":
      variant = variant ?? "v8";
      break;
    case "arm":
      variant = variant ?? "v7";
      break;
  }
  const out: Platform = { os, architecture };
  if (variant !== undefined) out.variant = variant;
  if (p["os.version"] !== undefined) out["os.version"] = p["os.version"];
  if (p["os.features"] !== undefined) out["os.features"] = p["os.features"];
  return out;
}

/**
 * How well `candidate` serves `want`: 0 is exact, higher is worse, undefined
 * is unusable. An arm v7 machine also runs v6 and v5 binaries, so those
 * match with a rank that grows with the distance.
 */
function rank(want: Platform, candidate: Platform): number | undefined {
  const w = normalizePlatform(want);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return undefined;
  if (w.variant === undefined || c.variant === w.variant) return 0;
  if (w.architecture === "arm" && w.variant !== undefined && c.variant !== undefined) {
    const wv = Number(w.variant.slice(1));
    const cv = Number(c.variant.slice(1));
    if (Number.isInteger(wv) && Number.isInteger(cv) && cv < wv) return wv - cv;
  }
  return undefined;
}

export function matchPlatform(want: Platform, candidate: Platform): boolean {
  return rank(want, candidate) !== undefined;
}

/**
 * The manifest of `index` that best serves `want`, or undefined. Entries
 * without a platform (single-platform OCI indexes) are a last resort;
 * attestation manifests (`unknown/unknown`) never match a real platform.
 */
export function selectManifest(index: Index, want: Platform): Descriptor | undefined {
  let best: { desc: Descriptor; rank: number } | undefined;
  for (const desc of index.manifests) {
    if (!isManifest(desc.mediaType) && !isIndex(desc.mediaType)) continue;
    const r = desc.platform === undefined ? (isManifest(desc.mediaType) ? 1000 : undefined) : rank(want, desc.platform);
    if (r === undefined) continue;
    if (best === undefined || r < best.rank) best = { desc, rank: r };
  }
  return best?.desc;
}
