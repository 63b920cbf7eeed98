/**
 * The registry layer speaks the OCI distribution API. Roles are split so a
 * caller takes only what it needs: `images/` pull wants a Resolver and a
 * Fetcher, push wants a Pusher; `RegistryClient` implements all three.
 *
 *   const client = new RegistryClient({ hosts: { "docker.io": { mirrors: ["127.0.0.1:5000"] } } });
 *   const r = await client.resolve(parseReference("alpine"), hostPlatform(), { signal });
 *   for (const layer of r.manifest.layers) await client.fetchBlob(r.ref, layer, store, { signal });
 *
 * Pulls try the host's mirrors in order, then the registry itself; pushes go
 * to the registry itself only.
 */
import type { Ingester, Provider } from "../content/types.js";
import type { Digest } from "../oci/digest.js";
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from "../oci/image.js";
import type { Reference } from "../oci/reference.js";

/** How to reach one registry host, keyed by the host as written in references (`docker.io`, `127.0.0.1:5000`). */
export interface RegistryHostConfig {
  /** Hosts (`host[:port]`, optionally with `http://` or `https://`) tried before this one for pulls. */
  mirrors?: string[];
  /** Speak plain HTTP. Loopback hosts always do. */
  http?: boolean;
  /** Accept any TLS certificate. */
  insecure?: boolean;
  /** Extra CA certificate files (PEM) trusted for this host. */
  ca?: string[];
}

export type RegistryHosts = Record<string, RegistryHostConfig>;

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for a host: the reference's domain for the registry itself, the mirror's host for a mirror. */
export type CredentialsFn = (host: string) => Credentials | undefined;

export interface CallOptions {
  signal?: AbortSignal;
}

export interface Resolved {
  /** Digest of the platform's image manifest. */
  digest: Digest;
  mediaType: string;
  manifest: Manifest;
  manifestBytes: Buffer;
  /** Set when the reference named an index (multi-platform image). */
  indexDigest?: Digest;
  index?: Index;
  indexBytes?: Buffer;
  indexMediaType?: string;
  config: ImageConfig;
  configBytes: Buffer;
}

export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export interface FetchBlobOptions extends CallOptions {
  /** Called as bytes arrive. */
  onProgress?: (done: number, total: number) => void;
}

export interface PushBlobOptions extends CallOptions {
  /** A repository on the same registry that has the blob, to mount it from instead of uploading. */
  from?: string;
}

/** How a blob got to the registry. */
export type PushBlobResult = "exists" | "mounted" | "uploaded";

export interface ResolveOptions extends CallOptions {
  /** Where blobs fetched before are: what is named by digest is read from here when it has it. */
  local?: Pick<Provider, "info" | "readBytes">;
}

export interface Resolver {
  /** Resolve a tag or digest to the image manifest for `platform`, verifying every digest on the way. */
  resolve(ref: Reference, platform: Platform, opts?: ResolveOptions): Promise<Resolved>;
}

export interface Fetcher {
  /** The manifest or index named by `descriptor`, or by the reference's digest or tag. */
  fetchManifest(ref: Reference, opts?: CallOptions & { descriptor?: Descriptor }): Promise<FetchedManifest>;
  fetchConfig(ref: Reference, descriptor: Descriptor, opts?: CallOptions): Promise<{ config: ImageConfig; bytes: Buffer }>;
  /** Small blobs, verified, in memory. */
  fetchBlobBytes(ref: Reference, descriptor: Descriptor, opts?: CallOptions): Promise<Buffer>;
  /** Stream a blob into a content store; a no-op when the store has it already. */
  fetchBlob(ref: Reference, descriptor: Descriptor, store: Ingester & Provider, opts?: FetchBlobOptions): Promise<Digest>;
}

/**
 * A blob uploaded while it is being made (a layer streamed out of its
 * compressor): bytes go out as they are written, before the digest is known;
 * `finish` names the digest (the registry checks it) and makes the blob
 * visible in the repository; `abort` drops the upload.
 */
export interface BlobUpload {
  write(chunk: Uint8Array): Promise<void>;
  finish(descriptor: Descriptor): Promise<void>;
  abort(reason?: unknown): void;
}

export interface Pusher {
  /** Open an upload of a blob whose digest is not known yet (one POST, then one streamed PATCH). */
  startUpload(ref: Reference, opts?: CallOptions): Promise<BlobUpload>;
  pushBlob(ref: Reference, descriptor: Descriptor, provider: Provider, opts?: PushBlobOptions): Promise<PushBlobResult>;
  /** Push a manifest or index under the reference's tag (or by digest); returns its digest. */
  pushManifest(ref: Reference, bytes: Uint8Array, mediaType: string, opts?: CallOptions): Promise<Digest>;
}
