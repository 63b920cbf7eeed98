/**
 * Image tarballs out: one tar that `docker load`, `podman load` and OCI
 * tools all read, as BuildKit writes it: an OCI image layout (`oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`) plus Docker's `manifest.json`, whose
 * `Config` and `Layers` name the same blob paths. Blobs stream from the
 * content store; the archive's size is known before the first byte, so it
 * can itself be sent as one tar entry.
 *
 *   const archive = imageArchive(content, image, { tags: ["app:1"] });
 *   await pipeline(archive.stream(), fs.createWriteStream("app.tar"));
 *
 * The way in is image-archive-import.ts.
 */
import { Readable } from "node:stream";
import tar from "tar-stream";
import type { ContentStore } from "../content/types.js";
import { type Digest, digestHex } from "../oci/digest.js";
import { type Descriptor, encodeJson, type Index } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import type { ExportedImage } from "./image-exporter.js";

const BLOCK = 512;
const END_OF_TAR = 1024;
const EPOCH = new Date(0);

/** The annotation naming an image in an OCI layout (a tag or a full reference). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** containerd's and BuildKit's annotation with the full image name. */
export const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";

export interface ImageArchive {
  /** Bytes of the whole tar. */
  readonly size: number;
  stream(signal?: AbortSignal): Readable;
}

type ArchiveEntry = { name: string; dir: true } | { name: string; data: Buffer } | { name: string; blob: Descriptor };

/** An archive of `image`: its manifests (or index), configs and layers. `tags` become RepoTags and ref names. */
export function imageArchive(content: ContentStore, image: ExportedImage, opts: { tags?: readonly string[] } = {}): ImageArchive {
  const tags = opts.tags ?? [];
  const blobs = new Map<Digest, Descriptor>();
  const add = (d: Descriptor): void => {
    if (!blobs.has(d.digest)) blobs.set(d.digest, { mediaType: d.mediaType, digest: d.digest, size: d.size });
  };
  for (const m of image.manifests) {
    for (const layer of m.manifest.layers) add(layer);
    add(m.manifest.config);
    add(m.descriptor);
  }
  add(image.descriptor);

  const top: Descriptor = { ...image.descriptor };
  if (image.manifests.length === 1 && image.manifests[0]!.descriptor.platform) top.platform = image.manifests[0]!.descriptor.platform;
  const indexEntries: Descriptor[] =
    tags.length === 0 ? [top] : tags.map((t) => ({ ...top, annotations: { [IMAGE_NAME_ANNOTATION]: t, [REF_NAME_ANNOTATION]: refName(t) } }));
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexEntries };
  const dockerManifest = image.manifests.map((m, i) => ({
    Config: blobPath(m.manifest.config.digest),
    // Docker tags one image per name; with several platforms the first variant carries the tags.
    RepoTags: i === 0 ? [...tags] : [],
    Layers: m.manifest.layers.map((l) => blobPath(l.digest)),
  }));

  const entries: ArchiveEntry[] = [
    { name: "oci-layout", data: encodeJson({ imageLayoutVersion: "1.0.0" }) },
    { name: "blobs/", dir: true },
    { name: "blobs/sha256/", dir: true },
    ...[...blobs.values()].map((blob) => ({ name: blobPath(blob.digest), blob })),
    { name: "index.json", data: encodeJson(index) },
    { name: "manifest.json", data: encodeJson(dockerManifest) },
  ];
  const size = entries.reduce((n, e) => n + BLOCK + ("dir" in e ? 0 : padded("data" in e ? e.data.length : e.blob.size)), END_OF_TAR);
  return { size, stream: (signal) => packEntries(content, entries, signal) };
}

function packEntries(content: ContentStore, entries: readonly ArchiveEntry[], signal: AbortSignal | undefined): Readable {
  const pack = tar.pack();
  (async () => {
    for (const e of entries) {
      signal?.throwIfAborted();
      if ("dir" in e) {
        await addEntry(pack, { name: e.name, type: "directory", mode: 0o755, mtime: EPOCH });
      } else if ("data" in e) {
        await addEntry(pack, { name: e.name, size: e.data.length, mode: 0o644, mtime: EPOCH }, Readable.from([e.data]));
      } else {
        await addEntry(pack, { name: e.name, size: e.blob.size, mode: 0o644, mtime: EPOCH }, content.readStream(e.blob.digest));
      }
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

function addEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, body?: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    // The pack torn down (its reader went away) destroys the entry: close the blob too.
    sink.on("error", (err: Error) => {
      body?.destroy();
      reject(err);
    });
    if (!body) return void sink.end(undefined);
    body.on("error", (err) => {
      sink.destroy(err);
      reject(err);
    });
    body.pipe(sink);
  });
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function blobPath(d: Digest): string {
  return `blobs/sha256/${digestHex(d)}`;
}

/** The OCI ref name of a tag: the tag part of `name:tag`, or the whole when it has none. */
function refName(t: string): string {
  const colon = t.lastIndexOf(":");
  return colon > t.lastIndexOf("/") ? t.slice(colon + 1) : t;
}
