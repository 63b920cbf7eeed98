/**
 * Pushing an exported image: blobs first (layers and configs, a few at a
 * time; the registry client skips those the repository has), then each
 * platform's manifest by digest, then what the reference names (the
 * manifest, or the index) under its tag. Returns the pushed digest.
 *
 *   const digest = await publishImage(registry, content, parseReference("host/app:1"), image, { signal });
 *
 * When the image is exported for this push (exportAndPublish), the blobs go
 * while the export still works (publishUploads): a layer it packs streams to
 * the registry as it is compressed, and any blob that is ready (a layer
 * compressed before, a config) is pushed at once; publishImage then waits
 * for those and sends only what they missed.
 */
import { Readable } from "node:stream";
import type { Provider } from "../content/types.js";
import { FailedPreconditionError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { type Descriptor, encodeJson } from "../oci/image.js";
import type { Reference } from "../oci/reference.js";
import type { BlobUpload, CallOptions, Pusher } from "../registry/types.js";
import { limiter } from "../util/limit.js";
import type { ExportedImage } from "./image-exporter.js";

const PARALLEL_BLOBS = 4;

/**
 * Where an export sends the blobs of the image it makes for a push. Best
 * effort: a blob whose early push failed is pushed again by publishImage,
 * which reports the error if it fails again.
 */
export interface LayerUploads {
  /** Open an upload for a layer whose digest is not known yet. */
  start(): Promise<BlobUpload>;
  /** A layer streamed through `start`: `done` resolves true once the registry has it in full. */
  streamed(digest: Digest, done: Promise<boolean>): void;
  /** A blob of the image, in the content store or given as `bytes`: push it now (once). */
  ready(descriptor: Descriptor, bytes?: Uint8Array): void;
  /** Every blob on its way, by digest: true once the registry has it. */
  readonly sending: ReadonlyMap<Digest, Promise<boolean>>;
}

export function publishUploads(registry: Pusher, content: Provider, ref: Reference, call: CallOptions): LayerUploads {
  const sending = new Map<Digest, Promise<boolean>>();
  const limit = limiter(PARALLEL_BLOBS);
  return {
    start: () => registry.startUpload(ref, call),
    streamed: (digest, done) => void sending.set(digest, done),
    ready: (d, bytes) => {
      if (sending.has(d.digest)) return;
      const from = bytes === undefined ? content : inMemory(d, bytes, content);
      const pushed = limit(() => registry.pushBlob(ref, blobDescriptor(d), from, call));
      sending.set(
        d.digest,
        pushed.then(
          () => true,
          () => false,
        ),
      );
    },
    sending,
  };
}

export async function publishImage(
  registry: Pusher,
  content: Provider,
  ref: Reference,
  image: ExportedImage,
  opts: { signal?: AbortSignal | undefined; sending?: ReadonlyMap<Digest, Promise<boolean>> | undefined } = {},
): Promise<Digest> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const blobs = new Map<Digest, Descriptor>();
  for (const m of image.manifests) {
    for (const d of [...m.manifest.layers, m.manifest.config]) blobs.set(d.digest, blobDescriptor(d));
  }
  await pushBlobs(registry, content, ref, [...blobs.values()], call, opts.sending);
  try {
    return await pushManifests(registry, content, ref, image, call);
  } catch (err) {
    // Clients pushing the same blob at once can leave the registry briefly without one a
    // manifest names (seen with two engines exporting one pipeline to one repository): ask
    // for each blob again, upload what is missing, and send the manifests once more.
    if (!(err instanceof FailedPreconditionError && /blob unknown/i.test(err.message))) throw err;
    await pushBlobs(registry, content, ref, [...blobs.values()], call, undefined);
    return pushManifests(registry, content, ref, image, call);
  }
}

/** Each blob the repository lacks, PARALLEL_BLOBS at a time; one `sending` has on its way is waited for instead. */
async function pushBlobs(
  registry: Pusher,
  content: Provider,
  ref: Reference,
  blobs: Descriptor[],
  call: CallOptions,
  sending: ReadonlyMap<Digest, Promise<boolean>> | undefined,
): Promise<void> {
  const queue = [...blobs];
  const worker = async (): Promise<void> => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
      // Sent while the export worked: wait for it, and send it again only if that failed.
      if (await sending?.get(d.digest)) continue;
      await registry.pushBlob(ref, d, content, call);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_BLOBS, queue.length) }, worker));
}

/** Each platform's manifest by digest (under an index), then what the reference names under its tag. */
async function pushManifests(registry: Pusher, content: Provider, ref: Reference, image: ExportedImage, call: CallOptions): Promise<Digest> {
  const byDigest: Reference = { domain: ref.domain, repository: ref.repository };
  if (image.index) {
    for (const m of image.manifests) await registry.pushManifest(byDigest, encodeJson(m.manifest), m.descriptor.mediaType, call);
  }
  const top = await content.readBytes(image.descriptor.digest);
  return registry.pushManifest(ref, top, image.descriptor.mediaType, call);
}

/** `content`, with one more blob served from memory (a config not stored yet). */
function inMemory(d: Descriptor, bytes: Uint8Array, content: Provider): Provider {
  const mine = (digest: Digest): boolean => digest === d.digest;
  return {
    info: async (digest) => (mine(digest) ? { digest, size: bytes.length } : content.info(digest)),
    readStream: (digest) => (mine(digest) ? Readable.from([bytes]) : content.readStream(digest)),
    readBytes: async (digest) => (mine(digest) ? Buffer.from(bytes) : content.readBytes(digest)),
    path: (digest) => content.path(digest),
  };
}

function blobDescriptor(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}
