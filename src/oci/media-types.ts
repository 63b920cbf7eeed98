/**
 * Media types of the OCI image spec and of Docker's v2 schema 2, which
 * registries still serve for most images. Code that switches on a media type
 * asks the helpers below instead of comparing strings, so that both families
 * are always handled together.
 */
import { InvalidArgumentError } from "../errors.js";

export const MediaType = {
  // Indexes: one entry per platform.
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",

  // Image manifests: a config plus layers.
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  /** Schema 1 is recognised only to be refused with a clear message. */
  dockerManifestSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerManifestSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",

  // Image configs.
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",

  // Layers.
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",

  // Layers that may not be pushed to other registries (Windows base layers).
  ociLayerNondistributable: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  ociLayerNondistributableGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  ociLayerNondistributableZstd: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  dockerLayerForeignGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",

  ociEmpty: "application/vnd.oci.empty.v1+json",
} as const;

export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];

export type LayerCompression = "gzip" | "zstd" | "none";

/** What a registry is asked for when resolving a tag: every index and manifest type we can read. */
export const MANIFEST_ACCEPT: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest];

/** Media types sometimes carry parameters (`; charset=utf-8`) that do not change their meaning. */
function bare(mt: string): string {
  const semi = mt.indexOf(";");
  return (semi === -1 ? mt : mt.slice(0, semi)).trim().toLowerCase();
}

export function isIndex(mt: string): boolean {
  const m = bare(mt);
  return m === MediaType.ociIndex || m === MediaType.dockerManifestList;
}

export function isManifest(mt: string): boolean {
  const m = bare(mt);
  return m === MediaType.ociManifest || m === MediaType.dockerManifest;
}

export function isSchema1(mt: string): boolean {
  const m = bare(mt);
  return m === MediaType.dockerManifestSchema1 || m === MediaType.dockerManifestSchema1Signed || m === "application/json";
}

export function isConfig(mt: string): boolean {
  const m = bare(mt);
  return m === MediaType.ociConfig || m === MediaType.dockerConfig;
}

const LAYERS: ReadonlyMap<string, LayerCompression> = new Map<string, LayerCompression>([
  [MediaType.ociLayer, "none"],
  [MediaType.ociLayerGzip, "gzip"],
  [MediaType.ociLayerZstd, "zstd"],
  [MediaType.dockerLayer, "none"],
  [MediaType.dockerLayerGzip, "gzip"],
  [MediaType.ociLayerNondistributable, "none"],
  [MediaType.ociLayerNondistributableGzip, "gzip"],
  [MediaType.ociLayerNondistributableZstd, "zstd"],
  [MediaType.dockerLayerForeignGzip, "gzip"],
]);

export function isLayer(mt: string): boolean {
  return LAYERS.has(bare(mt));
}

/** Foreign layers live outside the registry (descriptor `urls`) and are never pushed. */
export function isNondistributable(mt: string): boolean {
  const m = bare(mt);
  return m.includes(".nondistributable.") || m === MediaType.dockerLayerForeignGzip;
}

/**
 * The compression of a layer. Unknown types fall back to the suffix so that
 * vendor layer types (`...tar+gzip`) still apply; anything else cannot be
 * unpacked and is refused.
 */
export function layerCompression(mt: string): LayerCompression {
  const m = bare(mt);
  const known = LAYERS.get(m);
  if (known !== undefined) return known;
  if (m.endsWith("+gzip") || m.endsWith(".tar.gzip")) return "gzip";
  if (m.endsWith("+zstd")) return "zstd";
  if (m.endsWith(".tar") || m.endsWith("+tar")) return "none";
  throw new InvalidArgumentError(`unsupported layer media type "${mt}"`);
}
