/**
 * An OCI distribution client over HTTP(S): resolve a reference to the
 * manifest of one platform, fetch blobs into a content store, push blobs and
 * manifests. Everything fetched is verified against the digest that named it
 * before anyone sees it.
 *
 * Per host (`hosts["docker.io"]`) it knows mirrors, plain-HTTP and TLS
 * settings; pulls try the mirrors in order and then the registry itself, and
 * the error reported when all fail is the registry's own.
 */
import type { Readable } from "node:stream";
import type { Ingester, Provider } from "../content/types.js";
import { CancelledError, EngineError, FailedPreconditionError, InvalidArgumentError, messageOf, NotFoundError, UnavailableError } from "../errors.js";
import { type Digest, isDigest, sha256 } from "../oci/digest.js";
import { type Descriptor, type ImageConfig, type Platform, parseImageConfig, parseManifestOrIndex } from "../oci/image.js";
import { isIndex, MANIFEST_ACCEPT } from "../oci/media-types.js";
import { formatPlatform, selectManifest } from "../oci/platform.js";
import { formatReference, type Reference } from "../oci/reference.js";
import { metrics } from "../telemetry/metrics.js";
import { inBatches } from "../util/batches.js";
import { Authorizer } from "./authorizer.js";
import { blobUrl, type Endpoint, mirrorEndpoints, originEndpoint, repoBase, tlsFor } from "./endpoints.js";
import { drain, type HttpResponse, HttpTransport, headerValue } from "./http-transport.js";
import { contextualize, readBodyIn, registryError, withContext } from "./registry-errors.js";
import { type PushTarget, pushBlobTo, pushManifestTo } from "./registry-push.js";
import { streamedUpload } from "./streamed-upload.js";
import type {
  BlobUpload,
  CallOptions,
  CredentialsFn,
  FetchBlobOptions,
  FetchedManifest,
  Fetcher,
  PushBlobOptions,
  PushBlobResult,
  Pusher,
  RegistryHosts,
  Resolved,
  ResolveOptions,
  Resolver,
} from "./types.js";

export interface RegistryClientOptions {
  hosts?: RegistryHosts;
  credentials?: CredentialsFn;
  userAgent?: string;
  /** Requests for references of `domain` go to `host` (`ip:port`, plain HTTP) instead: a registry run as a service. */
  via?: { domain: string; host: string };
}

export interface SendRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: () => Uint8Array | Readable;
  scopes: string[];
  followRedirects?: boolean;
}

/** Manifests are small; a registry sending more is broken or hostile (containerd uses the same cap). */
const MANIFEST_LIMIT = 4 << 20;
/** Configs and other blobs read into memory. */
const BLOB_BYTES_LIMIT = 64 << 20;
/** Downloaded blobs reach the store in pieces of this size (the socket gives 64 KiB at a time). */
const BLOB_PIECE_BYTES = 1 << 20;

export class RegistryClient implements Resolver, Fetcher, Pusher {
  readonly #hosts: RegistryHosts;
  readonly #transport: HttpTransport;
  readonly #auth: Authorizer;

  readonly #userAgent: string;

  readonly #credentials: CredentialsFn | undefined;
  readonly #via: { domain: string; host: string } | undefined;

  constructor(opts: RegistryClientOptions = {}) {
    this.#hosts = opts.hosts ?? {};
    this.#credentials = opts.credentials;
    this.#via = opts.via;
    this.#userAgent = opts.userAgent ?? "tanto/0.1";
    this.#transport = new HttpTransport({ tlsFor: (host) => tlsFor(this.#hosts, host), userAgent: this.#userAgent });
    this.#auth = new Authorizer(this.#transport, opts.credentials);
  }

  /**
   * A client with the same hosts but its own credentials and token cache, so
   * one caller's login never serves another's requests.
   */
  withCredentials(credentials: CredentialsFn): RegistryClient {
    return new RegistryClient({ hosts: this.#hosts, credentials, userAgent: this.#userAgent, ...(this.#via ? { via: this.#via } : {}) });
  }

  /** A client (same hosts and credentials, its own connections) that reaches `domain`'s registry at `host` over plain HTTP. */
  withEndpoint(domain: string, host: string): RegistryClient {
    return new RegistryClient({
      hosts: this.#hosts,
      ...(this.#credentials ? { credentials: this.#credentials } : {}),
      userAgent: this.#userAgent,
      via: { domain, host },
    });
  }

  /** The registry itself for `ref`: its host, or the one `via` names. */
  #origin(ref: Reference): Endpoint {
    const via = this.#via;
    if (via?.domain !== ref.domain) return originEndpoint(this.#hosts, ref);
    return { host: via.host, base: new URL(`http://${via.host}/v2/`), mirror: false, credentialsHost: ref.domain };
  }

  /** Close idle connections. */
  close(): void {
    this.#transport.close();
  }

  /**
   * With `opts.local`, what is named by digest (a platform's manifest, the config) is read from
   * there when it holds it: only the tag is asked of the registry again, as each session does.
   */
  async resolve(ref: Reference, platform: Platform, opts: ResolveOptions = {}): Promise<Resolved> {
    const ctx = pullContext(ref);
    const local = opts.local;
    return this.#eachEndpoint(ref, "pull", opts.signal, async (ep) => {
      const top = await this.#getManifest(ep, ref, ref.digest ?? ref.tag ?? "latest", undefined, ctx, opts.signal);
      const parsed = withContext(() => parseManifestOrIndex(top.bytes, top.mediaType), ctx);

      let result: Omit<Resolved, "config" | "configBytes">;
      if (parsed.kind === "index") {
        const desc = selectManifest(parsed.index, platform);
        if (desc === undefined) {
          const have = parsed.index.manifests.flatMap((d) => (d.platform ? [formatPlatform(d.platform)] : []));
          throw new NotFoundError(`${ctx}: no image for platform ${formatPlatform(platform)} (available: ${have.length ? have.join(", ") : "none"})`);
        }
        if (isIndex(desc.mediaType)) throw new InvalidArgumentError(`${ctx}: nested image indexes are not supported`);
        const stored = await readLocal(local, desc);
        const m = stored
          ? { digest: desc.digest, mediaType: desc.mediaType, bytes: stored }
          : await this.#getManifest(ep, ref, desc.digest, desc, ctx, opts.signal);
        const inner = withContext(() => parseManifestOrIndex(m.bytes, m.mediaType), ctx);
        if (inner.kind !== "manifest") throw new InvalidArgumentError(`${ctx}: ${desc.digest} is listed as a manifest but is an index`);
        result = {
          digest: m.digest,
          mediaType: inner.mediaType,
          manifest: inner.manifest,
          manifestBytes: m.bytes,
          indexDigest: top.digest,
          index: parsed.index,
          indexBytes: top.bytes,
          indexMediaType: parsed.mediaType,
        };
      } else {
        result = { digest: top.digest, mediaType: parsed.mediaType, manifest: parsed.manifest, manifestBytes: top.bytes };
      }

      const configBytes = (await readLocal(local, result.manifest.config)) ?? (await this.#getBlobBytes(ep, ref, result.manifest.config, ctx, opts.signal));
      const config = withContext(() => parseImageConfig(configBytes), ctx);
      return { ...result, config, configBytes };
    });
  }

  async fetchManifest(ref: Reference, opts: CallOptions & { descriptor?: Descriptor } = {}): Promise<FetchedManifest> {
    const ctx = pullContext(ref);
    const reference = opts.descriptor?.digest ?? ref.digest ?? ref.tag ?? "latest";
    return this.#eachEndpoint(ref, "pull", opts.signal, (ep) => this.#getManifest(ep, ref, reference, opts.descriptor, ctx, opts.signal));
  }

  async fetchConfig(ref: Reference, descriptor: Descriptor, opts: CallOptions = {}): Promise<{ config: ImageConfig; bytes: Buffer }> {
    const bytes = await this.fetchBlobBytes(ref, descriptor, opts);
    return { bytes, config: withContext(() => parseImageConfig(bytes), pullContext(ref)) };
  }

  async fetchBlobBytes(ref: Reference, descriptor: Descriptor, opts: CallOptions = {}): Promise<Buffer> {
    const ctx = pullContext(ref);
    return this.#eachEndpoint(ref, "pull", opts.signal, (ep) => this.#getBlobBytes(ep, ref, descriptor, ctx, opts.signal));
  }

  async fetchBlob(ref: Reference, descriptor: Descriptor, store: Ingester & Provider, opts: FetchBlobOptions = {}): Promise<Digest> {
    const existing = await store.info(descriptor.digest);
    if (existing !== undefined) return descriptor.digest;
    const ctx = pullContext(ref);
    const what = `blob ${descriptor.digest}`;
    return this.#eachEndpoint(ref, "pull", opts.signal, async (ep) => {
      const res = await this.#send(
        ep,
        { method: "GET", url: blobUrl(ep, ref, descriptor.digest), scopes: [pullScope(ref)], followRedirects: true },
        ctx,
        opts.signal,
      );
      if (res.status !== 200) throw await registryError(res, ctx, what);

      const writer = await store.writer({ expected: descriptor.digest });
      let done = 0;
      try {
        try {
          // 1 MiB pieces: each is one file write (and one gunzip step when teed), not 16 of them.
          for await (const chunk of inBatches(res.body as AsyncIterable<Buffer>, BLOB_PIECE_BYTES)) {
            done += chunk.length;
            // Stop early rather than store gigabytes a lying server sends.
            if (done > descriptor.size) {
              throw new FailedPreconditionError(`${ctx}: ${what} from ${ep.host} is larger than the expected ${descriptor.size} bytes`);
            }
            await writer.write(chunk);
            opts.onProgress?.(done, descriptor.size);
          }
        } catch (err) {
          if (err instanceof EngineError) throw err;
          if (opts.signal?.aborted) throw new CancelledError(`${ctx}: cancelled`, { cause: err });
          throw new UnavailableError(`${ctx}: reading ${what} from ${ep.host}: ${messageOf(err)}`, { cause: err });
        }
        try {
          const digest = await writer.commit(descriptor.size, descriptor.digest);
          metrics.bytesPulled.inc({}, done);
          return digest;
        } catch (err) {
          if (err instanceof FailedPreconditionError) {
            throw new FailedPreconditionError(`${ctx}: ${what} from ${ep.host}: ${err.message}`, { cause: err });
          }
          throw err;
        }
      } catch (err) {
        res.body.destroy();
        await writer.abort();
        throw err;
      }
    });
  }

  async pushBlob(ref: Reference, descriptor: Descriptor, provider: Provider, opts: PushBlobOptions = {}): Promise<PushBlobResult> {
    const from = opts.from !== undefined && opts.from !== ref.repository ? opts.from : undefined;
    return pushBlobTo(this.#pushTarget(ref, opts.signal, from), descriptor, provider, from);
  }

  async startUpload(ref: Reference, opts: CallOptions = {}): Promise<BlobUpload> {
    const t = this.#pushTarget(ref, opts.signal, undefined);
    return streamedUpload(t.send, t.repo, t.host, t.ctx);
  }

  async pushManifest(ref: Reference, bytes: Uint8Array, mediaType: string, opts: CallOptions = {}): Promise<Digest> {
    return pushManifestTo(this.#pushTarget(ref, opts.signal, undefined), bytes, mediaType, ref.tag, ref.digest);
  }

  /** Authenticated requests to `ref`'s repository for a push (and a pull of `from`, to mount from it). */
  #pushTarget(ref: Reference, signal: AbortSignal | undefined, from: string | undefined): PushTarget {
    const ctx = `Cannot push "${formatReference(ref)}"`;
    const ep = this.#origin(ref);
    const scopes = [pushScope(ref), ...(from !== undefined ? [`repository:${from}:pull`] : [])];
    return { send: (req) => this.#send(ep, { ...req, scopes }, ctx, signal), repo: repoBase(ep, ref), host: ep.host, ctx };
  }

  // --- internals ---

  async #getManifest(
    ep: Endpoint,
    ref: Reference,
    reference: string,
    expected: Descriptor | undefined,
    ctx: string,
    signal: AbortSignal | undefined,
  ): Promise<FetchedManifest> {
    const res = await this.#send(
      ep,
      {
        method: "GET",
        url: new URL(`manifests/${reference}`, repoBase(ep, ref)),
        headers: { accept: MANIFEST_ACCEPT.join(", ") },
        scopes: [pullScope(ref)],
      },
      ctx,
      signal,
    );
    if (res.status !== 200) throw await registryError(res, ctx, expected ? `manifest ${expected.digest}` : undefined);
    const bytes = await readBodyIn(res, MANIFEST_LIMIT, "manifest", ctx, signal);
    const digest = sha256(bytes);
    const want = expected?.digest ?? (isDigest(reference) ? reference : undefined);
    const answered = headerValue(res, "docker-content-digest");
    if (want !== undefined && digest !== want) {
      throw new FailedPreconditionError(`${ctx}: manifest from ${ep.host} has digest ${digest}, expected ${want}`);
    }
    if (want === undefined && answered !== undefined && isDigest(answered) && answered !== digest) {
      throw new FailedPreconditionError(`${ctx}: manifest from ${ep.host} has digest ${digest}, the registry says ${answered}`);
    }
    if (expected !== undefined && bytes.length !== expected.size) {
      throw new FailedPreconditionError(`${ctx}: manifest ${digest} from ${ep.host} is ${bytes.length} bytes, expected ${expected.size}`);
    }
    const contentType = headerValue(res, "content-type")?.split(";")[0]?.trim() ?? "";
    return { digest, mediaType: expected?.mediaType ?? contentType, bytes };
  }

  async #getBlobBytes(ep: Endpoint, ref: Reference, desc: Descriptor, ctx: string, signal: AbortSignal | undefined): Promise<Buffer> {
    const what = `blob ${desc.digest}`;
    if (desc.size > BLOB_BYTES_LIMIT) throw new InvalidArgumentError(`${ctx}: ${what} is too large (${desc.size} bytes) to read into memory`);
    const res = await this.#send(ep, { method: "GET", url: blobUrl(ep, ref, desc.digest), scopes: [pullScope(ref)], followRedirects: true }, ctx, signal);
    if (res.status !== 200) throw await registryError(res, ctx, what);
    const bytes = await readBodyIn(res, desc.size, what, ctx, signal);
    const digest = sha256(bytes);
    if (digest !== desc.digest) throw new FailedPreconditionError(`${ctx}: ${what} from ${ep.host} has digest ${digest}`);
    if (bytes.length !== desc.size) {
      throw new FailedPreconditionError(`${ctx}: ${what} from ${ep.host} is ${bytes.length} bytes, expected ${desc.size}`);
    }
    return bytes;
  }

  /** Send with authentication: once with what the host asked for before, and again after a fresh 401 challenge. */
  async #send(ep: Endpoint, req: SendRequest, ctx: string, signal: AbortSignal | undefined): Promise<HttpResponse> {
    try {
      let scopes = req.scopes;
      for (let attempt = 0; ; attempt++) {
        const authorization = await this.#auth.authorization(ep.host, ep.credentialsHost, scopes, signal);
        const headers = { ...req.headers, ...(authorization ? { authorization } : {}) };
        const res = await this.#transport.request(
          {
            method: req.method,
            url: req.url,
            headers,
            ...(req.body ? { body: req.body } : {}),
            ...(req.followRedirects ? { followRedirects: true } : {}),
          },
          signal ? { signal } : {},
        );
        if (res.status !== 401 || attempt > 0) return res;
        const retryScopes = this.#auth.challenged(ep.host, ep.credentialsHost, headerValue(res, "www-authenticate"), req.scopes);
        if (retryScopes === undefined) return res;
        drain(res);
        scopes = retryScopes;
      }
    } catch (err) {
      throw contextualize(err, ctx);
    }
  }

  /** Run `fn` against each endpoint in turn until one succeeds; the last failure is the one reported. */
  async #eachEndpoint<T>(ref: Reference, purpose: "pull" | "push", signal: AbortSignal | undefined, fn: (ep: Endpoint) => Promise<T>): Promise<T> {
    const direct = purpose === "push" || this.#via?.domain === ref.domain;
    const endpoints = direct ? [this.#origin(ref)] : [...mirrorEndpoints(this.#hosts, ref), this.#origin(ref)];
    let last: unknown;
    for (const ep of endpoints) {
      try {
        return await fn(ep);
      } catch (err) {
        if (err instanceof CancelledError || signal?.aborted) throw err;
        last = err;
      }
    }
    throw last;
  }
}

/** A blob the local store holds with the descriptor's size, or undefined (also when it went meanwhile: a collection). */
async function readLocal(local: ResolveOptions["local"], desc: Descriptor): Promise<Buffer | undefined> {
  if (!local || (await local.info(desc.digest))?.size !== desc.size) return undefined;
  return local.readBytes(desc.digest).catch(() => undefined);
}

function pullContext(ref: Reference): string {
  return `Cannot pull "${formatReference(ref)}"`;
}

function pullScope(ref: Reference): string {
  return `repository:${ref.repository}:pull`;
}

function pushScope(ref: Reference): string {
  return `repository:${ref.repository}:pull,push`;
}
