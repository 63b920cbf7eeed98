/**
 * Containers out as images: each committed snapshot of a container's rootfs
 * chain becomes one layer (bottom-up), its overlay diff packed into an OCI
 * tar and compressed into the content store; then the image config, the
 * manifest and, for several platform variants, an index.
 *
 *   const image = await exporter.exportImage([{ rootfs, config }], { compression: "gzip", mediaTypes: "oci" });
 *   image.descriptor // the manifest (one variant) or index (several) in the content store
 *
 * Everything is deterministic: equal snapshots and settings give equal
 * digests (the config's `created` is fixed), so exporting twice gives the
 * same image and a second publish pushes nothing new.
 *
 * Blobs are reused: a pulled layer keeps the blob it came in (recorded by
 * the ImageStore in LayerBlobs), and a packed layer is recorded per
 * (snapshot, compression), so only new layers are ever compressed.
 */

import { type Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { compressGzip, compressZstd } from "../archive/compressors.js";
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION, writeEstargz } from "../archive/estargz.js";
import { packDirectory } from "../archive/write-layer.js";
import type { ContentStore } from "../content/types.js";
import { EngineError, InvalidArgumentError, messageOf } from "../errors.js";
import { type Digest, Digester, sha256 } from "../oci/digest.js";
import { type ContainerConfig, type Descriptor, encodeJson, type ImageConfig, type Index, type Manifest, type Platform } from "../oci/image.js";
import { type LayerCompression, MediaType } from "../oci/media-types.js";
import { normalizePlatform } from "../oci/platform.js";
import type { Reference } from "../oci/reference.js";
import type { BlobUpload, Credentials, CredentialsFn, Pusher } from "../registry/types.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { CommittedSnapshot } from "../snapshots/types.js";
import { type Limit, unlimited } from "../util/limit.js";
import { type LayerUploads, publishImage, publishUploads } from "./image-publisher.js";
import type { LayerBlob, LayerBlobs } from "./layer-blobs.js";

/** The API's enums (`ImageLayerCompression`, `ImageMediaTypes`), in engine spelling. */
export type ExportCompression = LayerCompression | "estargz";

/** A layer as a manifest lists it: an eStargz layer is gzip with annotations. */
export type ExportedLayer = LayerBlob & { annotations?: Record<string, string> };
export type ExportMediaTypes = "oci" | "docker";

/** The runtime settings of a container, as they go into the image config. */
export interface ImageSettings {
  platform: Platform;
  env: readonly string[];
  workdir: string;
  user: string;
  entrypoint: readonly string[];
  cmd: readonly string[];
  labels: ReadonlyArray<readonly [string, string]>;
  exposedPorts: ReadonlyArray<{ port: number; protocol: "TCP" | "UDP" }>;
  /** Annotations of the manifest. */
  annotations?: ReadonlyArray<readonly [string, string]>;
  healthcheck?: NonNullable<ContainerConfig["Healthcheck"]>;
}

export interface PublishOptions {
  signal?: AbortSignal | undefined;
  credentials?: Credentials | undefined;
  /** A registry service's `ip:port` to push through, instead of the reference's host. */
  via?: string | undefined;
}

export interface ImageVariant {
  rootfs: CommittedSnapshot | undefined;
  settings: ImageSettings;
}

export interface ExportOptions {
  /** Forced compression; undefined reuses any known blob of a layer and gzips the rest. */
  compression?: ExportCompression | undefined;
  mediaTypes: ExportMediaTypes;
  signal?: AbortSignal | undefined;
  /** Publishing: blobs go to the registry as soon as they are ready, and layers packed now while they are compressed. */
  uploads?: LayerUploads | undefined;
}

export interface ExportedManifest {
  /** The manifest's descriptor, with its platform. */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

export interface ExportedImage {
  /** What a reference names: the manifest of a single variant, or the index of several. */
  descriptor: Descriptor;
  manifests: ExportedManifest[];
  /** The index, when there are several variants. */
  index?: Index;
}

/** The `created` time of every exported config and history entry, so that equal input gives equal digests. */
export const EXPORT_CREATED = "1970-01-01T00:00:00Z";

export class ImageExporter {
  /** Layers being packed now, by `snapshot id/compression`, so concurrent exports pack once. */
  readonly #packing = new Map<string, Promise<ExportedLayer>>();

  constructor(
    private readonly deps: {
      content: ContentStore;
      snapshots: OverlaySnapshotter;
      layerBlobs: LayerBlobs;
      /** For publish. */
      registry: Pusher & {
        withCredentials(credentials: CredentialsFn): Pusher & { close(): void; withEndpoint(domain: string, host: string): Pusher & { close(): void } };
        withEndpoint(domain: string, host: string): Pusher & { close(): void };
      };
      /** Bounds layers packed and compressed at once ([worker.oci] max-exports). */
      exports?: Limit;
    },
  ) {}

  get content(): ContentStore {
    return this.deps.content;
  }

  /** Push an exported image to `ref`; returns the digest of what the reference names. */
  /**
   * Push `image` as `ref`, logged in with `credentials` when given
   * (withRegistryAuth), to the registry at `via` (`ip:port`, plain HTTP) when
   * given (a registry service) instead of the reference's host.
   */
  async publish(ref: Reference, image: ExportedImage, opts: PublishOptions = {}): Promise<Digest> {
    return this.#withClient(ref, opts, (client) => publishImage(client, this.deps.content, ref, image, opts));
  }

  /**
   * Export `variants` and push them as `ref`: layers that must be packed
   * stream to the registry while they are compressed, and are not sent again.
   */
  async exportAndPublish(ref: Reference, variants: readonly ImageVariant[], exportOpts: ExportOptions, opts: PublishOptions = {}): Promise<Digest> {
    return this.#withClient(ref, opts, async (client) => {
      const uploads = publishUploads(client, this.deps.content, ref, opts.signal ? { signal: opts.signal } : {});
      const image = await this.exportImage(variants, { ...exportOpts, uploads });
      return publishImage(client, this.deps.content, ref, image, { ...opts, sending: uploads.sending });
    });
  }

  async #withClient<T>(ref: Reference, opts: PublishOptions, fn: (client: Pusher) => Promise<T>): Promise<T> {
    const { credentials, via } = opts;
    if (!credentials && via === undefined) return fn(this.deps.registry);
    const authed = credentials ? this.deps.registry.withCredentials((host) => (host === ref.domain ? credentials : undefined)) : undefined;
    const client = via === undefined ? authed! : (authed ?? this.deps.registry).withEndpoint(ref.domain, via);
    try {
      return await fn(client);
    } finally {
      client.close();
      if (authed !== client) authed?.close();
    }
  }

  async exportImage(variants: readonly ImageVariant[], opts: ExportOptions): Promise<ExportedImage> {
    if (variants.length === 0) throw new InvalidArgumentError("an image needs at least one platform variant");
    const seen = new Set<string>();
    for (const v of variants) {
      const key = platformKey(v.settings.platform);
      if (seen.has(key)) throw new InvalidArgumentError(`platform ${key} is given twice among the platform variants`);
      seen.add(key);
    }
    const manifests = await Promise.all(variants.map((v) => this.exportManifest(v, opts)));
    if (manifests.length === 1) {
      const { platform: _p, ...descriptor } = manifests[0]!.descriptor;
      return { descriptor, manifests };
    }
    const docker = mediaTypesOf(opts) === "docker";
    const index: Index = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.dockerManifestList : MediaType.ociIndex,
      manifests: manifests.map((m) => m.descriptor),
    };
    const descriptor = await this.#put(index, index.mediaType!);
    return { descriptor, manifests, index };
  }

  /** One platform's image: its layers, config and manifest, all in the content store. */
  async exportManifest(variant: ImageVariant, opts: ExportOptions): Promise<ExportedManifest> {
    const docker = mediaTypesOf(opts) === "docker";
    const blobs: ExportedLayer[] = [];
    // The chain is top first; layers go bottom-up.
    const ids = variant.rootfs ? [...variant.rootfs.chain].reverse() : [];
    const layers: Descriptor[] = [];
    for (const id of ids) {
      const b = await this.layerBlob(id, opts.compression, opts.signal, opts.uploads);
      const layer = {
        mediaType: layerMediaType(b.compression, docker),
        digest: b.digest,
        size: b.size,
        ...(b.annotations ? { annotations: b.annotations } : {}),
      };
      // A publish sends each layer as soon as it is known, while the next ones are packed.
      opts.uploads?.ready(layer);
      blobs.push(b);
      layers.push(layer);
    }
    const platform = normalizePlatform(variant.settings.platform);
    const config = imageConfig(
      variant.settings,
      platform,
      blobs.map((b) => b.diffId),
    );
    const configBytes = encodeJson(config);
    const configDesc: Descriptor = { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: sha256(configBytes), size: configBytes.length };
    // A publish sends the config from memory while both documents are stored.
    opts.uploads?.ready(configDesc, configBytes);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
      config: configDesc,
      layers,
      ...(variant.settings.annotations?.length ? { annotations: Object.fromEntries(variant.settings.annotations) } : {}),
    };
    const [desc] = await Promise.all([this.#put(manifest, manifest.mediaType!), this.deps.content.put(configBytes, configDesc.digest)]);
    return { descriptor: { ...desc, platform }, manifest, config };
  }

  /**
   * The blob of one snapshot's own layer: a recorded one still in the
   * content store (in the wanted compression, or any when none is forced),
   * else packed from the snapshot's directory now.
   */
  async layerBlob(snapshotId: number, compression: ExportCompression | undefined, signal?: AbortSignal, uploads?: LayerUploads): Promise<ExportedLayer> {
    if (compression === "estargz") return this.#packOnce(snapshotId, "estargz", () => this.#packEstargz(snapshotId, signal));
    const known = this.deps.layerBlobs.lookup(snapshotId).filter((b) => compression === undefined || b.compression === compression);
    for (const blob of known) {
      const info = await this.deps.content.info(blob.digest);
      if (info?.size === blob.size) return blob;
      this.deps.layerBlobs.forget(snapshotId, blob.compression);
    }
    const want: LayerCompression = compression ?? "gzip";
    return this.#packOnce(snapshotId, want, () => this.#pack(snapshotId, want, signal, uploads));
  }

  #packOnce(snapshotId: number, compression: ExportCompression, pack: () => Promise<ExportedLayer>): Promise<ExportedLayer> {
    const key = `${snapshotId}/${compression}`;
    let packing = this.#packing.get(key);
    if (!packing) {
      packing = (this.deps.exports ?? unlimited)(pack).finally(() => this.#packing.delete(key));
      this.#packing.set(key, packing);
    }
    return packing;
  }

  /**
   * An eStargz blob of the layer (archive/estargz.ts). Not recorded as a
   * layer blob: it is packed again for each export that asks for it.
   */
  async #packEstargz(snapshotId: number, signal: AbortSignal | undefined): Promise<ExportedLayer> {
    const dir = this.deps.snapshots.layerDir({ state: "committed", id: snapshotId, name: "", chain: [snapshotId] });
    const writer = await this.deps.content.writer();
    try {
      const tar = packDirectory(dir, signal ? { signal } : {});
      const r = await writeEstargz(tar, (chunk) => writer.write(chunk));
      const digest = await writer.commit(undefined, undefined);
      const info = await this.deps.content.info(digest);
      return {
        compression: "gzip",
        digest,
        size: info!.size,
        diffId: r.diffId as Digest,
        annotations: { [TOC_DIGEST_ANNOTATION]: r.tocDigest, [UNCOMPRESSED_SIZE_ANNOTATION]: String(r.uncompressedSize) },
      };
    } catch (err) {
      await writer.abort();
      if (err instanceof EngineError) throw err;
      throw new EngineError(`packing the eStargz layer of snapshot ${snapshotId}: ${messageOf(err)}`, { cause: err });
    }
  }

  async #pack(snapshotId: number, compression: LayerCompression, signal: AbortSignal | undefined, uploads: LayerUploads | undefined): Promise<LayerBlob> {
    const dir = this.deps.snapshots.layerDir({ state: "committed", id: snapshotId, name: "", chain: [snapshotId] });
    // The upload opens while packing starts; it only ever adds speed, never a failure.
    let upload: BlobUpload | undefined;
    const opening = uploads?.start().then(
      (u) => (upload = u),
      () => undefined,
    );
    const tar = packDirectory(dir, signal ? { signal } : {});
    const diff = new Digester();
    const countDiff = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        diff.update(chunk);
        cb(null, chunk);
      },
    });
    const writer = await this.deps.content.writer();
    const dropUpload = (err: unknown): void => {
      upload?.abort(err);
      upload = undefined;
    };
    let uploadedBytes = 0;
    const send = async (chunk: Buffer): Promise<void> => {
      if (opening) await opening;
      uploadedBytes += chunk.length;
      await upload?.write(chunk).catch(dropUpload);
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        Promise.all([writer.write(chunk), send(chunk)]).then(() => cb(), cb);
      },
    });
    try {
      const stages: Array<Readable | Transform> = [tar, countDiff];
      if (compression === "gzip") stages.push(compressGzip());
      if (compression === "zstd") stages.push(compressZstd());
      await pipeline([...stages, sink] as unknown as [Readable, Writable], ...(signal ? [{ signal }] : []));
      await opening;
      // The upload is closed while the store syncs the blob to disk.
      const named = writer.digest();
      const sent = upload;
      if (sent) {
        // The publish waits for the upload's end, alongside its other blobs.
        const finished = sent.finish({ mediaType: layerMediaType(compression, false), digest: named, size: uploadedBytes }).then(
          () => true,
          (err: unknown) => {
            dropUpload(err);
            return false;
          },
        );
        uploads?.streamed(named, finished);
      }
      const digest = await writer.commit(undefined, named);
      const info = await this.deps.content.info(digest);
      const blob: LayerBlob = { compression, digest, size: info!.size, diffId: diff.digest() };
      this.deps.layerBlobs.record(snapshotId, blob);
      return blob;
    } catch (err) {
      dropUpload(err);
      await writer.abort();
      if (err instanceof EngineError) throw err;
      throw new EngineError(`packing the layer of snapshot ${snapshotId}: ${messageOf(err)}`, { cause: err });
    }
  }

  async #put(doc: object, mediaType: string): Promise<Descriptor> {
    const bytes = encodeJson(doc);
    const digest = await this.deps.content.put(bytes);
    return { mediaType, digest, size: bytes.length };
  }
}

function mediaTypesOf(opts: ExportOptions): ExportMediaTypes {
  // Docker's manifest has no zstd layer type; like BuildKit, zstd means OCI.
  return opts.compression === "zstd" ? "oci" : opts.mediaTypes;
}

export function layerMediaType(compression: LayerCompression, docker: boolean): string {
  switch (compression) {
    case "gzip":
      return docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip;
    case "zstd":
      return MediaType.ociLayerZstd;
    case "none":
      return docker ? MediaType.dockerLayer : MediaType.ociLayer;
  }
}

/** The image config of a container: its settings, and one history entry per layer. */
export function imageConfig(s: ImageSettings, platform: Platform, diffIds: readonly Digest[]): ImageConfig {
  const c: ContainerConfig = {};
  if (s.user !== "") c.User = s.user;
  if (s.exposedPorts.length > 0) {
    c.ExposedPorts = Object.fromEntries(s.exposedPorts.map((p) => [`${p.port}/${p.protocol.toLowerCase()}`, {}]));
  }
  if (s.env.length > 0) c.Env = [...s.env];
  if (s.entrypoint.length > 0) c.Entrypoint = [...s.entrypoint];
  if (s.cmd.length > 0) c.Cmd = [...s.cmd];
  if (s.workdir !== "") c.WorkingDir = s.workdir;
  if (s.labels.length > 0) c.Labels = Object.fromEntries(s.labels);
  if (s.healthcheck) c.Healthcheck = { ...s.healthcheck, ...(s.healthcheck.Test ? { Test: [...s.healthcheck.Test] } : {}) };
  const config: ImageConfig = {
    created: EXPORT_CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    config: c,
    rootfs: { type: "layers", diff_ids: [...diffIds] },
    history: diffIds.map(() => ({ created: EXPORT_CREATED, created_by: "tanto", comment: "tanto.layer.v1" })),
  };
  return config;
}

function platformKey(p: Platform): string {
  const n = normalizePlatform(p);
  return n.variant ? `${n.os}/${n.architecture}/${n.variant}` : `${n.os}/${n.architecture}`;
}
