/**
 * A thin HTTP client over node:http and node:https. Not global fetch: per-host
 * TLS settings (skip verification, extra CAs) need agents that undici does
 * not expose without the package, and streaming a request body from a file
 * with a known Content-Length is simpler here.
 *
 * Redirects are followed only when asked (blob downloads go to object
 * storage); the Authorization header is never sent to another origin.
 */

import { readFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import { Readable } from "node:stream";
import { rootCertificates } from "node:tls";
import { CancelledError, messageOf, UnavailableError } from "../errors.js";

export interface TlsOptions {
  insecure?: boolean;
  /** CA certificate files, trusted in addition to the system roots. */
  ca?: string[];
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A factory, because a request may be sent twice (after an auth challenge). */
  body?: () => Uint8Array | Readable;
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Where the answer came from, after redirects. */
  url: URL;
  body: http.IncomingMessage;
}

const MAX_REDIRECTS = 10;

export class HttpTransport {
  readonly #tlsFor: (host: string) => TlsOptions;
  readonly #userAgent: string;
  readonly #httpAgent = new http.Agent({ keepAlive: true });
  readonly #httpsAgents = new Map<string, Promise<https.Agent>>();

  constructor(opts: { tlsFor: (host: string) => TlsOptions; userAgent: string }) {
    this.#tlsFor = opts.tlsFor;
    this.#userAgent = opts.userAgent;
  }

  async request(req: HttpRequest, opts: { signal?: AbortSignal } = {}): Promise<HttpResponse> {
    let url = req.url;
    let method = req.method;
    let headers = { ...req.headers };
    let body = req.body;
    for (let hop = 0; ; hop++) {
      const res = await this.#once(method, url, headers, body, opts.signal);
      const location = res.headers.location;
      if (!req.followRedirects || ![301, 302, 303, 307, 308].includes(res.status) || location === undefined) return res;
      res.body.resume();
      if (hop >= MAX_REDIRECTS) throw new UnavailableError(`too many redirects fetching ${req.url.href}`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        // Signed object-storage URLs carry their own authorization and reject ours.
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
      }
      if (res.status === 303) {
        method = method === "HEAD" ? "HEAD" : "GET";
        body = undefined;
      }
      url = next;
    }
  }

  /** Drop idle connections so the process can exit. */
  close(): void {
    this.#httpAgent.destroy();
    for (const agent of this.#httpsAgents.values())
      void agent.then(
        (a) => a.destroy(),
        () => undefined,
      );
    this.#httpsAgents.clear();
  }

  async #agent(url: URL): Promise<http.Agent> {
    if (url.protocol === "http:") return this.#httpAgent;
    const tls = this.#tlsFor(url.host);
    const key = `${tls.insecure ? "insecure" : "verify"}|${(tls.ca ?? []).join("|")}`;
    let agent = this.#httpsAgents.get(key);
    if (agent === undefined) {
      agent = (async () => {
        const ca = tls.ca?.length ? [...rootCertificates, ...(await Promise.all(tls.ca.map((f) => readFile(f, "utf8"))))] : undefined;
        return new https.Agent({ keepAlive: true, rejectUnauthorized: !tls.insecure, ...(ca ? { ca } : {}) });
      })();
      this.#httpsAgents.set(key, agent);
      agent.catch(() => this.#httpsAgents.delete(key));
    }
    return agent;
  }

  async #once(method: string, url: URL, headers: Record<string, string>, body: HttpRequest["body"], signal: AbortSignal | undefined): Promise<HttpResponse> {
    if (signal?.aborted) throw new CancelledError(`request to ${url.host} cancelled`, { cause: signal.reason });
    let agent: http.Agent;
    try {
      agent = await this.#agent(url);
    } catch (err) {
      throw new UnavailableError(`cannot set up TLS for ${url.host}: ${messageOf(err)}`, { cause: err });
    }
    const payload = body?.();
    const lib = url.protocol === "https:" ? https : http;
    const allHeaders: Record<string, string> = { "user-agent": this.#userAgent, ...headers };
    if (payload instanceof Uint8Array && !hasHeader(allHeaders, "content-length")) allHeaders["content-length"] = String(payload.length);
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = lib.request(url, { method, headers: allHeaders, agent, ...(signal ? { signal } : {}) }, (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (payload instanceof Readable) payload.destroy();
        if (signal?.aborted || err.name === "AbortError") {
          reject(new CancelledError(`request to ${url.host} cancelled`, { cause: err }));
        } else {
          reject(new UnavailableError(`cannot reach registry ${url.host}: ${messageOf(err)}`, { cause: err }));
        }
      });
      if (payload === undefined) req.end();
      else if (payload instanceof Uint8Array) req.end(payload);
      else {
        payload.on("error", (err) => req.destroy(err));
        payload.pipe(req);
      }
    });
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Read a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.body.destroy();
      throw new UnavailableError(`${what} from ${res.url.host} is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Discard a body so the connection can be reused. */
export function drain(res: HttpResponse): void {
  res.body.resume();
}

/** A response header as one string (repeated headers joined), or undefined. */
export function headerValue(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}
