/**
 * Cache volumes through a registry: `tanto cache-volume push NAME REF` stores
 * the volume's tar archive (ops/volume-transfer.ts, gzip) as the one layer of
 * an OCI image at REF; `pull NAME REF` makes the volume from it, as an import
 * does (refused over an existing volume without `replace`, or one in use).
 * So a CI runner seeds a node_modules or Go build cache from the registry its
 * engines already share. Without REF, the volume goes through the engine's
 * remote cache ([cache] in engine.toml): pushed to the first export
 * repository, pulled from the first import repository that has it, under a
 * tag of its own (`volumeRef`).
 */
import { createHash } from "node:crypto";
import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { ContentStore } from "../content/types.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { type Digest, Digester } from "../oci/digest.js";
import { parseManifest } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type { CacheVolumes } from "../ops/cache-volumes.js";
import { exportVolume, importVolume, type VolumeSelector } from "../ops/volume-transfer.js";
import type { RegistryClient } from "../registry/registry-client.js";

export interface VolumeRegistryDeps {
  volumes: CacheVolumes;
  content: ContentStore;
  registry: RegistryClient;
}

const VOLUME_ANNOTATION = "dev.tanto.cache-volume";

/** Push volume `key` to `ref`; returns the manifest's digest. */
export async function pushVolume(deps: VolumeRegistryDeps, key: string, ref: Reference, opts: VolumeSelector = {}): Promise<Digest> {
  const tar = new PassThrough();
  const diff = new Digester();
  const writer = await deps.content.writer();
  let size = 0;
  const exported = exportVolume(deps.volumes, key, tar, opts);
  exported.catch(() => tar.destroy());
  let layer: Digest;
  try {
    // The layer's diff ID: the digest of the uncompressed tar.
    const hashTar = new Transform({
      transform(chunk: Buffer, _enc, done) {
        diff.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(tar, hashTar, createGzip(), async (gz: AsyncIterable<Buffer>) => {
      for await (const chunk of gz) {
        size += chunk.length;
        await writer.write(chunk);
      }
    });
    await exported;
    layer = await writer.commit(size, undefined);
  } catch (err) {
    await writer.abort();
    await exported.catch(() => undefined);
    throw err;
  }
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [diff.digest()] } }));
  const configDigest = await deps.content.put(config);
  const layers = [{ mediaType: MediaType.ociLayerGzip, digest: layer, size }];
  const configDesc = { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length };
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers, annotations: { [VOLUME_ANNOTATION]: key } }),
  );
  for (const d of [...layers, configDesc]) await deps.registry.pushBlob(ref, d, deps.content);
  return deps.registry.pushManifest(ref, manifest, MediaType.ociManifest);
}

/** Make volume `key` from the image at `ref` (one gzip layer: a volume pushed by pushVolume). */
export async function pullVolume(
  deps: VolumeRegistryDeps,
  key: string,
  ref: Reference,
  opts: VolumeSelector & { replace: boolean },
): Promise<{ replaced: boolean }> {
  const fetched = await deps.registry.fetchManifest(ref);
  const manifest = parseManifest(fetched.bytes);
  const layer = manifest.layers[0];
  if (manifest.layers.length !== 1 || !layer || manifest.annotations?.[VOLUME_ANNOTATION] === undefined) {
    throw new InvalidArgumentError(
      `${ref.domain}/${ref.repository} is not a cache volume pushed by tanto (want one layer and the ${VOLUME_ANNOTATION} annotation)`,
    );
  }
  await deps.registry.fetchBlob(ref, layer, deps.content);
  const tar = Readable.from(deps.content.readStream(layer.digest).pipe(createGunzip()));
  return importVolume(deps.volumes, key, tar, opts);
}

/**
 * A volume's place in a remote cache repository `repo` (HOST/REPOSITORY):
 * the tag `tanto-volume-<hex>`, from the volume's key and owner (any string
 * may be a key; a tag may not), beside the records' `tanto-<hex>` tags.
 */
export function volumeRef(repo: string, key: string, opts: VolumeSelector = {}): Reference {
  const { digest: _d, tag: _t, ...bare } = parseReference(repo, { defaultTag: false });
  const hex = createHash("sha256")
    .update(JSON.stringify([key, opts.owner ?? ""]))
    .digest("hex");
  return { ...bare, tag: `tanto-volume-${hex}` };
}

/** Pull volume `key` from the first of the remote cache's import repositories that has it. */
export async function pullVolumeFromCache(
  deps: VolumeRegistryDeps,
  key: string,
  repos: readonly string[],
  opts: VolumeSelector & { replace: boolean },
): Promise<{ replaced: boolean; ref: string }> {
  for (const repo of repos) {
    const ref = volumeRef(repo, key, opts);
    try {
      await deps.registry.fetchManifest(ref);
    } catch (err) {
      if ((err as { code?: unknown }).code === "NOT_FOUND") continue;
      throw err;
    }
    return { ...(await pullVolume(deps, key, ref, opts)), ref: `${ref.domain}/${ref.repository}:${ref.tag}` };
  }
  const owned = opts.owner === undefined ? "" : ` (owner ${JSON.stringify(opts.owner)})`;
  throw new NotFoundError(`cache volume "${key}"${owned} is in none of the remote cache's import repositories: ${repos.join(", ")}`);
}
