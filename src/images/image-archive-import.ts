/**
 * Image tarballs in: an OCI layout tarball or a `docker save` tarball
 * (manifest.json, `<id>.json` configs, `<id>/layer.tar` layers, possibly
 * gzipped as a whole). Blobs go to the content store, verified against their
 * names where the names are digests (layers are verified against the
 * config's diff_ids when they are unpacked). The result is one platform's
 * manifest, stored.
 *
 *   const { manifestDigest, config } = await importImageArchive(content, stream, { platform });
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { decompressStream, detectCompression } from "../archive/decompress.js";
import type { ContentStore } from "../content/types.js";
import { CancelledError, EngineError, FailedPreconditionError, InvalidArgumentError, messageOf, NotFoundError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { type Descriptor, encodeJson, type ImageConfig, type Manifest, type Platform, parseImageConfig, parseIndex, parseManifest } from "../oci/image.js";
import { isIndex, isManifest, MediaType } from "../oci/media-types.js";
import { formatPlatform, selectManifest } from "../oci/platform.js";
import { IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION } from "./image-archive.js";

/** index.json, manifest.json and friends are read into memory; anything larger is not what it claims. */
const MAX_METADATA = 8 << 20;

export interface ImportOptions {
  platform: Platform;
  /** Which image, when the archive holds several (a tag, `name:tag`, or an OCI ref name). */
  tag?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface ImportedImage {
  manifestDigest: Digest;
  manifest: Manifest;
  config: ImageConfig;
}

interface StoredFile {
  digest: Digest;
  size: number;
}

/** What the tar held: metadata documents in memory, other files stored by name, symlinks by name. */
interface ArchiveContents {
  metadata: Map<string, Buffer>;
  files: Map<string, StoredFile>;
  links: Map<string, string>;
  names: string[];
}

const METADATA = new Set(["oci-layout", "index.json", "manifest.json", "repositories"]);

/** Read an image archive into the content store and pick one manifest of it. */
export async function importImageArchive(content: ContentStore, input: Readable, opts: ImportOptions): Promise<ImportedImage> {
  const contents = await readArchive(content, input, opts.signal);
  const indexJson = contents.metadata.get("index.json");
  if (indexJson) return importOciLayout(content, indexJson, opts);
  const manifestJson = contents.metadata.get("manifest.json");
  if (manifestJson) return importDockerSave(content, contents, manifestJson, opts);
  const found = contents.names.length === 0 ? "it is empty" : `it holds ${describeNames(contents.names)}`;
  throw new InvalidArgumentError(`not an image archive: no index.json (OCI layout) or manifest.json (docker save) at its top; ${found}`);
}

async function readArchive(content: ContentStore, input: Readable, signal: AbortSignal | undefined): Promise<ArchiveContents> {
  const out: ArchiveContents = { metadata: new Map(), files: new Map(), links: new Map(), names: [] };
  const extract = tar.extract();
  const feeding = pipeline(input, decompressStream("auto"), extract, ...(signal ? [{ signal }] : []));
  feeding.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const name = cleanName(entry.header.name);
      if (out.names.length < 1000) out.names.push(entry.header.type === "directory" ? `${name}/` : name);
      if (entry.header.type === "symlink" || entry.header.type === "link") {
        const target = entry.header.linkname ?? "";
        out.links.set(name, entry.header.type === "symlink" ? joinRelative(name, target) : cleanName(target));
        skip(entry);
      } else if (entry.header.type !== "file" && entry.header.type !== "contiguous-file") {
        skip(entry);
      } else if (METADATA.has(name)) {
        out.metadata.set(name, await readSmall(entry, name));
      } else if (name.startsWith("blobs/") || /\.(json|tar|tar\.gz|tgz|tar\.zst)$/.test(name) || name.endsWith("/json")) {
        out.files.set(name, await storeEntry(content, entry, name));
      } else {
        skip(entry);
      }
    }
    await feeding;
  } catch (err) {
    input.destroy();
    // The pipeline's own error (corrupt gzip or zstd, a broken tar) says the file is not an
    // archive; an error of ours (a blob that fails its digest) is reported as it is.
    const streamError = await feeding.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err instanceof EngineError && err !== streamError) throw err;
    if (signal?.aborted) throw new CancelledError("importing an image archive: cancelled", { cause: err });
    throw new InvalidArgumentError(`not an image archive: cannot read it as a tar: ${messageOf(err)}`, { cause: err });
  }
  return out;
}

/** Drain an entry we do not keep; if the archive breaks meanwhile, the loop above hears of it, not this entry. */
function skip(entry: { on(event: "error", fn: () => void): unknown; resume(): unknown }): void {
  entry.on("error", () => undefined);
  entry.resume();
}

async function readSmall(entry: AsyncIterable<unknown>, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += (chunk as Buffer).length;
    if (size > MAX_METADATA) throw new InvalidArgumentError(`image archive: ${name} is larger than ${MAX_METADATA} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function storeEntry(content: ContentStore, entry: AsyncIterable<unknown>, name: string): Promise<StoredFile> {
  // `blobs/sha256/<hex>` names its own digest: verified on commit.
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
  const expected = m ? (`sha256:${m[1]}` as Digest) : undefined;
  const writer = await content.writer(expected ? { expected } : {});
  let size = 0;
  try {
    for await (const chunk of entry) {
      size += (chunk as Buffer).length;
      await writer.write(chunk as Buffer);
    }
    return { digest: await writer.commit(size, expected), size };
  } catch (err) {
    await writer.abort();
    if (err instanceof FailedPreconditionError) throw new FailedPreconditionError(`image archive: ${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

function cleanName(name: string): string {
  return name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

/** A symlink target relative to the link's directory, as a name in the archive. */
function joinRelative(link: string, target: string): string {
  if (target.startsWith("/")) return cleanName(target);
  const parts = link.split("/").slice(0, -1);
  for (const p of target.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== "." && p !== "") parts.push(p);
  }
  return parts.join("/");
}

function describeNames(names: readonly string[]): string {
  const shown = names.slice(0, 8).map((n) => JSON.stringify(n));
  return names.length > 8 ? `${shown.join(", ")} and ${names.length - 8} more entries` : shown.join(", ");
}

/** The stored file an archive path names, following symlinks (docker save links duplicate layers). */
function fileAt(contents: ArchiveContents, name: string, what: string): StoredFile {
  let p = cleanName(name);
  for (let hops = 0; hops < 16; hops++) {
    const f = contents.files.get(p);
    if (f) return f;
    const next = contents.links.get(p);
    if (next === undefined) break;
    p = next;
  }
  throw new InvalidArgumentError(`image archive: ${what} "${name}" is not in the archive`);
}

async function importOciLayout(content: ContentStore, indexJson: Buffer, opts: ImportOptions): Promise<ImportedImage> {
  const index = withWhat(() => parseIndex(indexJson), "index.json");
  const candidates = index.manifests.filter((d) => isManifest(d.mediaType) || isIndex(d.mediaType));
  let chosen: Descriptor | undefined;
  if (opts.tag !== undefined) {
    chosen = candidates.find((d) => namesOf(d).some((n) => tagMatches(n, opts.tag!)));
    if (!chosen) {
      const known = candidates.flatMap(namesOf);
      throw new NotFoundError(
        `image archive has no image tagged "${opts.tag}"${known.length > 0 ? `; it has ${known.map((n) => JSON.stringify(n)).join(", ")}` : ": its images carry no names"}`,
      );
    }
  } else {
    // Several entries are several images or one per platform; choose by platform.
    chosen = candidates.length === 1 ? candidates[0] : (selectManifest({ ...index, manifests: candidates }, opts.platform) ?? candidates[0]);
  }
  if (!chosen) throw new InvalidArgumentError("image archive: index.json lists no image manifest");
  for (let depth = 0; isIndex(chosen.mediaType); depth++) {
    if (depth > 4) throw new InvalidArgumentError("image archive: indexes nested too deeply");
    const nestedBytes = await readBlob(content, chosen);
    const nested = withWhat(() => parseIndex(nestedBytes), `index ${chosen!.digest}`);
    const next = selectManifest(nested, opts.platform);
    if (!next) {
      const have = nested.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : "unknown")).join(", ");
      throw new NotFoundError(`image archive has no image for platform ${formatPlatform(opts.platform)}; it has ${have || "none"}`);
    }
    chosen = next;
  }
  const manifestBytes = await readBlob(content, chosen);
  const manifest = withWhat(() => parseManifest(manifestBytes), `manifest ${chosen.digest}`);
  const configBytes = await readBlob(content, manifest.config);
  const config = withWhat(() => parseImageConfig(configBytes), `config ${manifest.config.digest}`);
  for (const layer of manifest.layers) {
    if (!(await content.info(layer.digest)))
      throw new InvalidArgumentError(`image archive: layer ${layer.digest} of manifest ${chosen.digest} is not in the archive`);
  }
  return { manifestDigest: chosen.digest, manifest, config };
}

async function readBlob(content: ContentStore, d: Descriptor): Promise<Buffer> {
  if (!(await content.info(d.digest))) throw new InvalidArgumentError(`image archive: blob ${d.digest} (${d.mediaType}) is not in the archive`);
  return content.readBytes(d.digest);
}

function namesOf(d: Descriptor): string[] {
  const a = d.annotations ?? {};
  return [a[IMAGE_NAME_ANNOTATION], a[REF_NAME_ANNOTATION]].filter((n): n is string => n !== undefined && n !== "");
}

/** `tag` matches a name that is it, or whose tag part is it (`app:1` for `1`), or a familiar form of it. */
function tagMatches(name: string, tag: string): boolean {
  if (name === tag) return true;
  const colon = name.lastIndexOf(":");
  const nameTag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
  if (nameTag === tag) return true;
  return name.endsWith(`/${tag}`) || name === `docker.io/library/${tag}` || name === `docker.io/${tag}`;
}

function withWhat<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (err) {
    throw new InvalidArgumentError(`image archive: ${what}: ${messageOf(err)}`, { cause: err });
  }
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function importDockerSave(content: ContentStore, contents: ArchiveContents, manifestJson: Buffer, opts: ImportOptions): Promise<ImportedImage> {
  const entries = withWhat(() => {
    const v = JSON.parse(manifestJson.toString("utf8")) as unknown;
    if (!Array.isArray(v) || v.length === 0) throw new Error("want a non-empty array");
    for (const e of v as DockerSaveEntry[]) {
      if (typeof e?.Config !== "string" || !Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === "string")) {
        throw new Error("each entry needs Config (a path) and Layers (paths)");
      }
    }
    return v as DockerSaveEntry[];
  }, "manifest.json");
  let chosen: DockerSaveEntry | undefined;
  if (opts.tag !== undefined) {
    chosen = entries.find((e) => (e.RepoTags ?? []).some((t) => tagMatches(t, opts.tag!)));
    if (!chosen) {
      const known = entries.flatMap((e) => e.RepoTags ?? []);
      throw new NotFoundError(
        `image archive has no image tagged "${opts.tag}"${known.length > 0 ? `; it has ${known.map((n) => JSON.stringify(n)).join(", ")}` : ": its images carry no tags"}`,
      );
    }
  }
  // Choose by platform among the entries when no tag decided it.
  if (!chosen) {
    for (const e of entries) {
      const bytes = await content.readBytes(fileAt(contents, e.Config, "config").digest);
      const config = withWhat(() => parseImageConfig(bytes), e.Config);
      if (config.os === opts.platform.os && config.architecture === opts.platform.architecture) {
        chosen = e;
        break;
      }
    }
    chosen ??= entries[0]!;
  }
  const configFile = fileAt(contents, chosen.Config, "config");
  const configBytes = await content.readBytes(configFile.digest);
  const config = withWhat(() => parseImageConfig(configBytes), chosen.Config);
  const layers: Descriptor[] = [];
  for (const p of chosen.Layers) {
    const f = fileAt(contents, p, "layer");
    const compression = detectCompression(await head(content, f.digest));
    const mediaType = compression === "gzip" ? MediaType.ociLayerGzip : compression === "zstd" ? MediaType.ociLayerZstd : MediaType.ociLayer;
    layers.push({ mediaType, digest: f.digest, size: f.size });
  }
  if (layers.length !== config.rootfs.diff_ids.length) {
    throw new InvalidArgumentError(`image archive: ${chosen.Config} lists ${config.rootfs.diff_ids.length} diff_ids but manifest.json ${layers.length} layers`);
  }
  // docker save has no manifest of its own; write the OCI one it implies.
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configFile.digest, size: configFile.size },
    layers,
  };
  const manifestDigest = await content.put(encodeJson(manifest));
  return { manifestDigest, manifest, config };
}

/** The first bytes of a stored blob, to tell its compression. */
async function head(content: ContentStore, digest: Digest): Promise<Buffer> {
  const stream = content.readStream(digest);
  try {
    for await (const chunk of stream) return (chunk as Buffer).subarray(0, 8);
    return Buffer.alloc(0);
  } finally {
    stream.destroy();
  }
}
