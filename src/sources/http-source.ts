/**
 * Files from HTTP(S) URLs, downloaded with Node's http/https into the content
 * store, so that what a URL served is known by its digest before anything
 * uses it: the same bytes from any URL are the same cache key downstream.
 *
 *   const { digest } = await http.fetch("https://example.com/tool.tar.gz", { checksum });
 *
 * The validators of each URL's last download (ETag, Last-Modified) are kept
 * for the engine's lifetime: asking again sends them, and a 304 reuses the
 * blob already stored.
 */

import * as http from "node:http";
import * as https from "node:https";
import type { ContentStore } from "../content/types.js";
import { CancelledError, EngineError, InvalidArgumentError, messageOf, NotFoundError, UnavailableError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { type Limit, unlimited } from "../util/limit.js";

export interface Download {
  readonly digest: Digest;
  readonly size: number;
  /**
   * The file's modification time, in seconds since the epoch, as Dagger sets
   * it: the response's Last-Modified when it parses, else 0 (the epoch).
   */
  readonly mtime: number;
}

export interface FetchOptions {
  /** Expected digest of the content; a mismatch fails the download. */
  checksum?: Digest;
  /** The Authorization header's value; sent to the URL's origin only. */
  authorization?: string;
  signal?: AbortSignal;
}

interface Validators {
  etag?: string;
  lastModified?: string;
  download: Download;
}

const MAX_REDIRECTS = 10;
/** No byte for this long: the server is gone. */
const IDLE_TIMEOUT_MS = 60_000;

export class HttpSource {
  readonly #validators = new Map<string, Validators>();

  constructor(
    private readonly content: ContentStore,
    private readonly userAgent: string,
    /** Bounds downloads running at once ([worker.oci] max-downloads). */
    private readonly downloads: Limit = unlimited,
  ) {}

  fetch(url: string, opts: FetchOptions = {}): Promise<Download> {
    return this.downloads(() => this.#fetch(url, opts), opts.signal);
  }

  async #fetch(url: string, opts: FetchOptions): Promise<Download> {
    let target = parseHttpUrl(url);
    const origin = target.origin;
    const known = this.#validators.get(url);
    const reusable = known && (await this.content.info(known.download.digest)) ? known : undefined;
    for (let hop = 0; ; hop++) {
      const authorization = target.origin === origin ? opts.authorization : undefined;
      const res = await this.#get(target, reusable && hop === 0 ? reusable : undefined, authorization, opts.signal);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
        res.resume();
        if (hop >= MAX_REDIRECTS) throw new UnavailableError(`GET ${url}: more than ${MAX_REDIRECTS} redirects`);
        target = parseHttpUrl(new URL(res.headers.location, target).toString());
        continue;
      }
      if (status === 304 && reusable) {
        res.resume();
        if (opts.checksum !== undefined && reusable.download.digest !== opts.checksum) {
          throw new EngineError(`GET ${url}: digest mismatch: expected ${opts.checksum}, got ${reusable.download.digest}`, { code: "FAILED_PRECONDITION" });
        }
        return reusable.download;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        const what = `GET ${url}: ${status} ${res.statusMessage ?? ""}`.trimEnd();
        throw status === 404 || status === 410 ? new NotFoundError(what) : new UnavailableError(what);
      }
      const lastModified = res.headers["last-modified"];
      const download = await this.#store(url, res, opts, httpTimeSeconds(lastModified));
      const etag = res.headers.etag;
      if (etag !== undefined || lastModified !== undefined) {
        this.#validators.set(url, { ...(etag !== undefined ? { etag } : {}), ...(lastModified !== undefined ? { lastModified } : {}), download });
      } else this.#validators.delete(url);
      return download;
    }
  }

  async #store(url: string, res: http.IncomingMessage, opts: FetchOptions, mtime: number): Promise<Download> {
    const w = await this.content.writer();
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        await w.write(chunk);
      }
      const length = res.headers["content-length"] === undefined ? undefined : Number(res.headers["content-length"]);
      if (length !== undefined && Number.isFinite(length) && length !== size) {
        throw new UnavailableError(`GET ${url}: connection closed after ${size} of ${length} bytes`);
      }
      const digest = await w.commit(size, opts.checksum).catch((err: unknown) => {
        throw new EngineError(`GET ${url}: ${messageOf(err)}`, { code: "FAILED_PRECONDITION", cause: err });
      });
      return { digest, size, mtime };
    } catch (err) {
      await w.abort();
      if (opts.signal?.aborted) throw new CancelledError();
      if (err instanceof EngineError) throw err;
      throw new UnavailableError(`GET ${url}: ${messageOf(err)}`, { cause: err });
    }
  }

  #get(url: URL, validators: Validators | undefined, authorization: string | undefined, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
    const headers: Record<string, string> = { "user-agent": this.userAgent, accept: "*/*" };
    if (authorization !== undefined) headers["authorization"] = authorization;
    if (validators?.etag !== undefined) headers["if-none-match"] = validators.etag;
    if (validators?.lastModified !== undefined) headers["if-modified-since"] = validators.lastModified;
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new CancelledError());
      const req = lib.get(url, { headers, ...(signal ? { signal } : {}) }, resolve);
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no response for ${IDLE_TIMEOUT_MS / 1000}s`)));
      req.on("error", (err) => {
        reject(signal?.aborted ? new CancelledError() : new UnavailableError(`GET ${url.toString()}: ${messageOf(err)}`, { cause: err }));
      });
    });
  }
}

/** An HTTP date (Last-Modified) in whole seconds since the epoch; 0 when absent or unreadable. */
export function httpTimeSeconds(value: string | undefined): number {
  if (value === undefined) return 0;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

function parseHttpUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(`invalid URL "${url}"`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new InvalidArgumentError(`URL "${url}": only http and https are supported`);
  }
  return u;
}

/** The file name a URL suggests: its last path segment, else "index" (as Dagger does). */
export function fileNameFromUrl(url: string): string {
  const segment = parseHttpUrl(url)
    .pathname.split("/")
    .filter((s) => s !== "")
    .pop();
  if (segment === undefined) return "index";
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    name = segment;
  }
  return name === "." || name === ".." || name.includes("/") || name.includes("\0") ? "index" : name;
}
