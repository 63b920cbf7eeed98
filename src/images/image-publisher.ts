/**
 * Pushing an exported image: blobs first (layers and configs, a few at a
 * time; the registry client skips those the repository has, and `uploaded`
 * names those the export streamed there already), then each
 * platform's manifest by digest, then what the reference names (the
 * manifest, or the index) under its tag. Returns the pushed digest.
 *
 *   const digest = await publishImage(registry, content, parseReference("host/app:1"), image, { signal });
 */
import type { Provider } from "../content/types.js";
import type { Digest } from "../oci/digest.js";
import { type Descriptor, encodeJson } from "../oci/image.js";
import type { Reference } from "../oci/reference.js";
import type { Pusher } from "../registry/types.js";
import type { ExportedImage } from "./image-exporter.js";

const PARALLEL_BLOBS = 4;

export async function publishImage(
  registry: Pusher,
  content: Provider,
  ref: Reference,
  image: ExportedImage,
  opts: { signal?: AbortSignal | undefined; uploaded?: ReadonlySet<Digest> } = {},
): Promise<Digest> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const blobs = new Map<Digest, Descriptor>();
  for (const m of image.manifests) {
    for (const d of [...m.manifest.layers, m.manifest.config]) {
      // Streamed to this registry while the export packed it: nothing to ask or send.
      if (opts.uploaded?.has(d.digest)) continue;
      blobs.set(d.digest, { mediaType: d.mediaType, digest: d.digest, size: d.size });
    }
  }
  const queue = [...blobs.values()];
  const worker = async (): Promise<void> => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) await registry.pushBlob(ref, d, content, call);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_BLOBS, queue.length) }, worker));

  const byDigest: Reference = { domain: ref.domain, repository: ref.repository };
  if (image.index) {
    for (const m of image.manifests) await registry.pushManifest(byDigest, encodeJson(m.manifest), m.descriptor.mediaType, call);
  }
  const top = await content.readBytes(image.descriptor.digest);
  return registry.pushManifest(ref, top, image.descriptor.mediaType, call);
}
