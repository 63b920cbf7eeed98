/**
 * The content blobs a cache record owns (a download of `http()`, the index,
 * manifests and configs of an exported image tarball), in the registry
 * cache: one more manifest of the record's index, an OCI artifact whose
 * layers are the blobs as they are (`application/octet-stream`), with the
 * empty config. The importer pulls them into its content store, where the
 * imported record owns them as the exporter's did; it never unpacks them.
 */
import type { ContentStore } from "../content/types.js";
import type { ExportedManifest } from "../images/image-exporter.js";
import { type Digest, isDigest } from "../oci/digest.js";
import { type Descriptor, encodeJson, type Manifest, parseManifestOrIndex } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import type { Reference } from "../oci/reference.js";
import type { RegistryClient } from "../registry/registry-client.js";

/** On the index entry of the blobs' manifest (instead of the snapshot part annotation). */
export const BLOBS_PART = "dev.tanto.cache.blobs";
const ARTIFACT_TYPE = "application/vnd.dev.tanto.cache.blobs.v1";
const BLOB_MEDIA_TYPE = "application/octet-stream";
/** The OCI empty descriptor's content (image-spec manifest.md, "Guidance for an Empty Descriptor"). */
const EMPTY_JSON = Buffer.from("{}");

/** The manifest listing `blobs` (all in `content`); undefined when one of them is not there any more. */
export async function blobsManifest(content: ContentStore, blobs: readonly string[]): Promise<ExportedManifest | undefined> {
  const layers: Descriptor[] = [];
  for (const digest of blobs) {
    const info = isDigest(digest) ? await content.info(digest) : undefined;
    if (!info) return undefined;
    layers.push({ mediaType: BLOB_MEDIA_TYPE, digest: info.digest, size: info.size });
  }
  const configDigest = await content.put(EMPTY_JSON);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: ARTIFACT_TYPE,
    config: { mediaType: MediaType.ociEmpty, digest: configDigest, size: EMPTY_JSON.length },
    layers,
  };
  const bytes = encodeJson(manifest);
  const digest = await content.put(bytes);
  return {
    descriptor: { mediaType: MediaType.ociManifest, digest, size: bytes.length },
    manifest,
    // Not an image: no platform, no layers to apply; the exporter's shape only carries it to the publisher.
    config: { architecture: "", os: "", rootfs: { type: "layers", diff_ids: [] } },
  };
}

/** The blobs the manifest `d` of a record in `repo` lists, pulled into `content`; their digests. */
export async function pullBlobs(
  registry: RegistryClient,
  content: ContentStore,
  repo: Reference,
  d: Descriptor,
  signal: AbortSignal | undefined,
): Promise<Digest[]> {
  const call = signal ? { signal } : {};
  const fetched = await registry.fetchManifest({ ...repo, digest: d.digest }, { ...call, descriptor: d });
  const doc = parseManifestOrIndex(fetched.bytes, fetched.mediaType);
  if (doc.kind !== "manifest") throw new Error(`the blobs' entry ${d.digest} of the record's index is an index, not a manifest`);
  const out: Digest[] = [];
  for (const layer of doc.manifest.layers) out.push(await registry.fetchBlob(repo, layer, content, call));
  return out;
}
