/**
 * Images, glued from the registry, the content store and the snapshots.
 *
 * `resolve` turns an address into a pinned reference plus its config (the
 * manifest and config are kept in the content store, so unpacking later needs
 * no registry round trip for them). `unpack` fetches the layers and applies
 * each one into its own snapshot named by the layer's chain ID, so images
 * that share base layers share snapshots.
 */

import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { applyLayer } from "../archive/apply-layer.js";
import { decompressStream } from "../archive/decompress.js";
import type { ContentStore } from "../content/types.js";
import { FailedPreconditionError } from "../errors.js";
import { withMounted } from "../mount/mount.js";
import { type Digest, Digester, digestHex, sha256 } from "../oci/digest.js";
import { type Descriptor, type ImageConfig, type Manifest, parseImageConfig, parseManifest } from "../oci/image.js";
import { layerCompression } from "../oci/media-types.js";
import type { Platform } from "../oci/platform.js";
import { formatReference, type Reference, withDigest } from "../oci/reference.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { CommittedSnapshot } from "../snapshots/types.js";
import { inSpan, type SpanSink } from "../telemetry/types.js";
import { type Limit, unlimited } from "../util/limit.js";
import { type TeeIngester, teeIngester } from "./tee-ingester.js";

export interface ResolvedImage {
  /** The reference pinned to the platform manifest's digest. */
  ref: Reference;
  manifestDigest: Digest;
  config: ImageConfig;
}

export type PullProgress = (event: { layer: Digest; done: number; total: number }) => void;

export class ImageStore {
  readonly #inflightLayers = new Map<string, Promise<CommittedSnapshot>>();

  constructor(
    private readonly registry: RegistryClient,
    private readonly content: ContentStore,
    private readonly snapshots: OverlaySnapshotter,
    /** Where to mount layers while unpacking them. */
    private readonly scratchDir: string,
    /** Told which blob a new layer snapshot came from, so exports can reuse it. */
    private readonly onLayerUnpacked?: (snapshot: CommittedSnapshot, layer: Descriptor, diffId: Digest) => void,
    /** Bounds layer downloads running at once ([worker.oci] max-layer-pulls). */
    private readonly layerPulls: Limit = unlimited,
  ) {}

  /** A client of the store's registry that reaches `domain` at `host` instead (plain HTTP): for `resolve`/`unpack` opts.registry. */
  endpointClient(domain: string, host: string): RegistryClient {
    return this.registry.withEndpoint(domain, host);
  }

  /** A registry client for one pull (e.g. through a registry service) may stand in for the store's own: `opts.registry`. */
  async resolve(ref: Reference, platform: Platform, opts: { signal?: AbortSignal; registry?: RegistryClient } = {}): Promise<ResolvedImage> {
    const resolved = await (opts.registry ?? this.registry).resolve(ref, platform, { local: this.content, ...(opts.signal ? { signal: opts.signal } : {}) });
    await this.content.put(resolved.manifestBytes, resolved.digest);
    await this.content.put(resolved.configBytes, resolved.manifest.config.digest);
    return { ref: withDigest(ref, resolved.digest), manifestDigest: resolved.digest, config: resolved.config };
  }

  /** Make sure every layer of a pinned image is unpacked; returns the top snapshot. */
  async unpack(
    ref: Reference,
    opts: {
      signal?: AbortSignal;
      onProgress?: PullProgress;
      spans?: { sink: SpanSink | undefined; parent: string | undefined };
      registry?: RegistryClient;
    } = {},
  ): Promise<CommittedSnapshot | undefined> {
    const { manifest, config } = await this.#manifestAndConfig(ref, opts);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new FailedPreconditionError(`image ${formatReference(ref)} is inconsistent: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`);
    }
    // The lowest layer not unpacked yet can be applied while it downloads (streamed); the
    // layers above it wait for their parent's snapshot, so they download into the store at
    // once and are applied from there in order.
    const chainIds: Digest[] = [];
    for (const diffId of diffIds) chainIds.push(chainIds.length === 0 ? diffId : sha256(`${chainIds.at(-1)} ${diffId}`));
    const firstMissing = chainIds.findIndex((c) => this.snapshots.get(layerSnapshotName(c)) === undefined);
    const streamed = firstMissing >= 0 && !(await this.content.info(manifest.layers[firstMissing]!.digest)) ? firstMissing : -1;
    const downloads = manifest.layers.map((layer, i) => (i === streamed ? undefined : this.#download(ref, layer, this.content, opts)));
    for (const d of downloads) d?.catch(() => undefined);
    let parent: CommittedSnapshot | undefined;
    for (const [i, layer] of manifest.layers.entries()) {
      const source: LayerSource = downloads[i] ?? {
        stream: (store, stop) => this.#download(ref, layer, store, { ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, stop]) : stop }),
      };
      parent = await this.#layerSnapshot(chainIds[i]!, parent, layer, diffIds[i]!, source, opts);
    }
    return parent;
  }

  async #manifestAndConfig(ref: Reference, opts: { signal?: AbortSignal; registry?: RegistryClient }): Promise<{ manifest: Manifest; config: ImageConfig }> {
    const registry = opts.registry ?? this.registry;
    const call = opts.signal ? { signal: opts.signal } : {};
    const digest = ref.digest!;
    let manifestBytes: Buffer;
    if (await this.content.info(digest)) manifestBytes = await this.content.readBytes(digest);
    else {
      const fetched = await registry.fetchManifest(ref, call);
      manifestBytes = fetched.bytes;
      await this.content.put(manifestBytes, digest);
    }
    const manifest = parseManifest(manifestBytes);
    if (!(await this.content.info(manifest.config.digest))) {
      await registry.fetchBlob(ref, manifest.config, this.content, call);
    }
    return { manifest, config: parseImageConfig(await this.content.readBytes(manifest.config.digest)) };
  }

  async #download(
    ref: Reference,
    layer: Descriptor,
    store: ContentStore | TeeIngester["store"],
    opts: {
      signal?: AbortSignal;
      onProgress?: PullProgress;
      spans?: { sink: SpanSink | undefined; parent: string | undefined };
      registry?: RegistryClient;
    },
  ): Promise<void> {
    const fetch = () =>
      this.layerPulls(
        () =>
          (opts.registry ?? this.registry).fetchBlob(ref, layer, store, {
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(opts.onProgress ? { onProgress: (done: number, total: number) => opts.onProgress!({ layer: layer.digest, done, total }) } : {}),
          }),
        opts.signal,
      );
    // A layer that is already here is no pull, and gets no span.
    if (!opts.spans?.sink || (await this.content.info(layer.digest))) return void (await fetch());
    const attributes = { "tanto.layer": layer.digest, "tanto.bytes": layer.size, "tanto.image": formatReference(ref) };
    await inSpan(opts.spans.sink, opts.spans.parent, { name: `pull ${layer.digest.slice(0, 19)} (${layer.size} bytes)`, kind: "pull", attributes }, fetch);
  }

  #layerSnapshot(
    chainId: Digest,
    parent: CommittedSnapshot | undefined,
    layer: Descriptor,
    diffId: Digest,
    source: LayerSource,
    opts: { signal?: AbortSignal },
  ): Promise<CommittedSnapshot> {
    const name = layerSnapshotName(chainId);
    const existing = this.snapshots.get(name);
    if (existing) {
      this.snapshots.touch(existing);
      return Promise.resolve(existing);
    }
    let inflight = this.#inflightLayers.get(name);
    if (!inflight) {
      inflight = (async () => {
        if (!(source instanceof Promise)) {
          const tee = teeIngester(this.content);
          const stop = new AbortController();
          const download = source.stream(tee.store, stop.signal);
          // A download that fails before it wrote anything (or while writing) ends the unpack too.
          let downloadError: unknown;
          download.catch((err: unknown) => {
            downloadError = err;
            tee.body.destroy(err instanceof Error ? err : new Error(String(err)));
          });
          try {
            return await this.#apply(name, parent, layer, diffId, tee.body, opts, async () => {
              await download;
              if (tee.broken()) throw new StreamedLayerBroken();
            });
          } catch (err) {
            tee.body.destroy();
            // The stream broke because of the download: it says what went wrong, or, when it
            // moved on to an endpoint that delivered the blob (a mirror failed or sent other
            // bytes), the layer is unpacked again from the store.
            const fromDownload = tee.broken() || downloadError !== undefined;
            // Otherwise the unpack failed on its own: never leave the download running behind it.
            if (!fromDownload) stop.abort(err);
            const downloaded = await download.then(
              () => true,
              () => false,
            );
            if (!fromDownload) throw err;
            if (!downloaded) throw downloadError;
            if (!tee.broken()) throw err;
          }
        } else await source;
        return this.#apply(name, parent, layer, diffId, this.content.readStream(layer.digest), opts, async () => undefined);
      })().finally(() => this.#inflightLayers.delete(name));
      this.#inflightLayers.set(name, inflight);
    }
    return inflight;
  }

  /**
   * Applies `blob` (the layer's compressed bytes) into a new snapshot on
   * `parent`, and commits it as `name` once `verified` resolved (the blob is
   * in the store with its digest checked) and the tar matched `diffId`.
   */
  async #apply(
    name: string,
    parent: CommittedSnapshot | undefined,
    layer: Descriptor,
    diffId: Digest,
    blob: Readable,
    opts: { signal?: AbortSignal },
    verified: () => Promise<void>,
  ): Promise<CommittedSnapshot> {
    const active = await this.snapshots.prepare(parent);
    try {
      const digester = new Digester();
      const verify = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          digester.update(chunk);
          cb(null, chunk);
        },
      });
      const unpack = async (target: string, whiteouts: "overlay" | "delete"): Promise<void> => {
        const feeding = pipeline(blob, decompressStream(compressionOf(layer.mediaType)), verify, ...(opts.signal ? [{ signal: opts.signal }] : []));
        feeding.catch(() => undefined);
        // applyLayer's error comes first: when it refuses an entry it destroys the
        // stream, and the pipeline then fails with a bare "Premature close". A broken
        // blob reaches applyLayer as its source's error, so it reports that too.
        await applyLayer(verify, target, { whiteouts, ...(opts.signal ? { signal: opts.signal } : {}) });
        await feeding;
      };
      // A first layer is unpacked where it lies. Later ones go through the
      // mounted stack, so paths resolve through the lower layers (a
      // `lib -> usr/lib` symlink below stays a symlink) and the kernel
      // writes the whiteouts.
      if (!parent) await unpack(active.upperDir, "overlay");
      else {
        const at = path.join(this.scratchDir, `unpack-${randomBytes(6).toString("hex")}`);
        await withMounted(this.snapshots.mounts(active), at, (merged) => unpack(merged, "delete"));
      }
      await verified();
      const actual = digester.digest();
      if (actual !== diffId) {
        throw new FailedPreconditionError(`layer ${layer.digest} unpacks to ${actual}, but the image config says ${diffId}`);
      }
      const committed = await this.snapshots.commit(active, name);
      try {
        this.onLayerUnpacked?.(committed, layer, diffId);
      } catch {
        // A lost record only means an export packs this layer again.
      }
      return committed;
    } catch (err) {
      await this.snapshots.abort(active);
      throw err;
    }
  }
}

/** A layer's blob: a download into the store under way, or one to start teed into the unpacker. */
type LayerSource = Promise<void> | { stream: (store: TeeIngester["store"], stop: AbortSignal) => Promise<void> };

/** The streamed bytes of a layer were not its verified blob. */
class StreamedLayerBroken extends Error {}

function layerSnapshotName(chainId: Digest): string {
  return `layer/${digestHex(chainId)}`;
}

function compressionOf(mediaType: string): "gzip" | "zstd" | "none" | "auto" {
  try {
    return layerCompression(mediaType);
  } catch {
    return "auto";
  }
}
