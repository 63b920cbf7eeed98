/**
 * The client side of the engine's HTTP API (see server/http-api.ts), over a
 * unix socket, TCP, or any stream a `createConnection` hook opens (the
 * docker-container:// runner host: see runner-hosts.ts). Used by the CLI's
 * session, run and query commands.
 */
import type * as http from "node:http";
import { createRequire } from "node:module";
import * as net from "node:net";
// node:stream's callback pipeline: node:stream/promises would be one more module for every CLI start.
import { type Duplex, pipeline, type Readable } from "node:stream";
import { InvalidArgumentError, messageOf, UnavailableError } from "../errors.js";
import { type Address, parseAddress, TOKEN_ENV } from "../http/address.js";
import { CALL_STATUS_HEADER, type SessionEvent } from "../http/session-protocol.js";
import { lineSplitter, oneShotQuery } from "./one-shot-query.js";

let httpModule: typeof http | undefined;
/** node:http, loaded on first use: a `tanto query` answered in one round trip never needs it (see one-shot-query.ts). */
function httpApi(): typeof http {
  httpModule ??= createRequire(import.meta.url)("node:http") as typeof http;
  return httpModule;
}

/** A GraphQL request as sent over HTTP: the engine reads these three keys. */
export interface GraphQLRequestBody {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
}

export interface EngineClientOptions {
  /** Opens a connection to the engine; `url` then only names the engine in messages. */
  createConnection?: () => Duplex;
}

export class EngineClient {
  readonly #addr: Address | undefined;
  readonly #createConnection: (() => Duplex) | undefined;
  #agentInstance: http.Agent | undefined;

  constructor(
    readonly url: string,
    opts: EngineClientOptions = {},
  ) {
    this.#createConnection = opts.createConnection;
    this.#addr = opts.createConnection ? undefined : parseAddress(url);
  }

  get #agent(): http.Agent {
    if (this.#agentInstance === undefined) {
      this.#agentInstance = new (httpApi().Agent)({ keepAlive: true });
      const dial = this.#createConnection;
      if (dial) this.#agentInstance.createConnection = dial as unknown as http.Agent["createConnection"];
    }
    return this.#agentInstance;
  }

  #headers(): Record<string, string> {
    const token = this.#addr?.kind === "tcp" ? process.env[TOKEN_ENV] : undefined;
    return { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  }

  /** A new connection to the engine. */
  #connect(): Duplex {
    if (this.#createConnection) return this.#createConnection();
    const a = this.#addr!;
    return a.kind === "unix" ? net.connect({ path: a.path }) : net.connect({ host: a.host, port: a.port });
  }

  #options(method: string, path: string): http.RequestOptions {
    const headers = this.#headers();
    // No TLS here: a servername spares the agent its test of the host for one (net.isIP, whose
    // first call compiles the IPv6 expression: milliseconds of every CLI command's first request).
    const base = { method, path, agent: this.#agent, headers, servername: "" };
    if (!this.#addr) return { ...base, host: "localhost" };
    return this.#addr.kind === "unix" ? { ...base, socketPath: this.#addr.path } : { ...base, host: this.#addr.host, port: this.#addr.port };
  }

  /** Send a request and return the raw response body (JSON text). */
  request(method: string, path: string, body?: string, signal?: AbortSignal, extraHeaders?: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const opts = this.#options(method, path);
      if (extraHeaders) opts.headers = { ...(opts.headers as Record<string, string>), ...extraHeaders };
      const req = httpApi().request({ ...opts, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", (err) => reject(new UnavailableError(`cannot reach the engine at ${this.url}: ${messageOf(err)}`, { cause: err })));
      req.end(body);
    });
  }

  async health(): Promise<{ version: string }> {
    const res = await this.request("GET", "/v1/health");
    if (res.status !== 200) throw new UnavailableError(`engine at ${this.url} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as { version: string };
  }

  async stats(): Promise<{
    executed: Record<string, number>;
    cacheHits: number;
    contentHits?: number;
    sessions: number;
    platforms: string[];
    network?: { ready: number; inUse: number };
  }> {
    return JSON.parse((await this.request("GET", "/v1/stats")).body) as {
      executed: Record<string, number>;
      cacheHits: number;
      contentHits?: number;
      sessions: number;
      platforms: string[];
    };
  }

  async openSession(labels: Record<string, string>): Promise<string> {
    const res = await this.request("POST", "/v1/sessions", JSON.stringify({ labels }));
    if (res.status !== 201) {
      let said = res.body;
      try {
        said = String((JSON.parse(res.body) as { error?: unknown }).error ?? res.body);
      } catch {
        // not JSON: the body as it is
      }
      const message = `engine refused a session: ${said}`;
      throw res.status === 400 ? new InvalidArgumentError(message) : new UnavailableError(message);
    }
    return (JSON.parse(res.body) as { id: string }).id;
  }

  /**
   * Keep the session's event stream open; events go to `onEvent`. The
   * returned function closes the stream, which ends the session.
   */
  attachEvents(sessionId: string, onEvent: (e: SessionEvent) => void, onClose: () => void): () => void {
    const req = httpApi().request(this.#options("GET", `/v1/sessions/${sessionId}/events`), (res) => {
      eachLine(res, (line) => onEvent(JSON.parse(line) as SessionEvent));
      res.on("close", onClose);
    });
    req.on("error", onClose);
    req.end();
    return () => req.destroy();
  }

  /**
   * A session for one request (`POST /v1/query`): `onEvent` gets the session's id first, then its
   * events; resolves with the GraphQL response text once the session is over. Undefined when the
   * request did not reach an engine (no connection) or the engine has no such endpoint (an older
   * one) or refused it: the caller then goes the long way, whose errors say what is wrong.
   */
  queryOnce(
    labels: Record<string, string>,
    request: GraphQLRequestBody,
    onEvent: (sessionId: string, e: SessionEvent) => void,
    traceparent?: string,
  ): Promise<string | undefined> {
    const headers = { ...this.#headers(), ...(traceparent ? { traceparent } : {}) };
    return oneShotQuery(this.#connect(), this.url, headers, JSON.stringify({ labels, request }), onEvent);
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.request("DELETE", `/v1/sessions/${sessionId}`).catch(() => undefined);
  }

  /** Run a GraphQL request in a session; returns the JSON response text. */
  async query(sessionId: string, request: GraphQLRequestBody, signal?: AbortSignal, traceparent?: string): Promise<string> {
    const res = await this.request("POST", `/v1/sessions/${sessionId}/query`, JSON.stringify(request), signal, traceparent ? { traceparent } : undefined);
    return res.body;
  }

  /** Answer call `callId` with a JSON value, a stream, or an error. */
  replyCall(sessionId: string, callId: string, answer: { json: unknown } | { stream: Readable } | { error: string; code?: string }): Promise<void> {
    return new Promise((resolve, reject) => {
      const opts = this.#options("POST", `/v1/sessions/${sessionId}/calls/${callId}`);
      opts.headers = {
        ...(opts.headers as Record<string, string>),
        [CALL_STATUS_HEADER]: "error" in answer ? "error" : "ok",
        "content-type": "stream" in answer ? "application/octet-stream" : "application/json",
      };
      const req = httpApi().request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(Buffer.concat(chunks).toString("utf8") || `engine answered ${res.statusCode}`)),
        );
        res.on("error", reject);
      });
      req.on("error", reject);
      if ("stream" in answer) {
        pipeline(answer.stream, req, (err) => {
          if (!err) return;
          req.destroy(err);
          reject(err);
        });
      } else req.end(JSON.stringify("json" in answer ? answer.json : { message: answer.error, code: answer.code ?? "INTERNAL" }));
    });
  }

  /** A socket to port `port` of tunnel `tunnelId`'s service (an HTTP upgrade). */
  openTunnel(sessionId: string, tunnelId: string, port: number): Promise<Duplex> {
    return this.openUpgrade(`/v1/sessions/${sessionId}/tunnels/${tunnelId}/${port}`);
  }

  /** A raw socket to the engine through an HTTP upgrade at `path`. */
  openUpgrade(path: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const opts = this.#options("GET", path);
      opts.headers = { ...(opts.headers as Record<string, string>), connection: "Upgrade", upgrade: "tanto-tunnel" };
      const req = httpApi().request(opts);
      req.on("upgrade", (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on("response", (res) => {
        res.resume();
        reject(new Error(`engine refused the upgrade at ${path}: ${res.statusCode}`));
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** The input the engine sends with call `callId` (an export's tar stream). */
  callInput(sessionId: string, callId: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpApi().request(this.#options("GET", `/v1/sessions/${sessionId}/calls/${callId}/input`), (res) => {
        if (res.statusCode !== 200) reject(new Error(`engine has no input for call ${callId} (${res.statusCode})`));
        else resolve(res);
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** A streamed answer (a volume's tar): the response, whatever its status; the caller reads or drains it. */
  download(path: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpApi().request({ ...this.#options("GET", path), ...(signal ? { signal } : {}) }, resolve);
      req.on("error", (err) => reject(new UnavailableError(`cannot reach the engine at ${this.url}: ${messageOf(err)}`, { cause: err })));
      req.end();
    });
  }

  /** Send `body` as a stream; returns the (JSON) answer. */
  upload(method: string, path: string, body: Readable): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const opts = this.#options(method, path);
      opts.headers = { ...(opts.headers as Record<string, string>), "content-type": "application/octet-stream" };
      const req = httpApi().request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", (err) => reject(new UnavailableError(`cannot reach the engine at ${this.url}: ${messageOf(err)}`, { cause: err })));
      // The engine may answer (a refusal) before reading everything: the answer is what counts.
      pipeline(body, req, () => undefined);
    });
  }

  close(): void {
    this.#agentInstance?.destroy();
  }
}

/** Calls `onLine` with each non-empty line of an NDJSON response as it arrives. */
function eachLine(res: http.IncomingMessage, onLine: (line: string) => void): void {
  res.setEncoding("utf8");
  res.on("data", lineSplitter(onLine));
}
