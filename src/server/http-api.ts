/**
 * The engine's HTTP endpoints, served on its unix socket (and on TCP when
 * configured). Clients are `tanto` processes, never SDKs directly:
 *
 *   GET    /v1/health                    → {version}
 *   GET    /v1/stats                     → solver counters (ops executed, cache hits), platforms it runs
 *   GET    /v1/du                        → disk usage by kind, reclaimable
 *   POST   /v1/prune                     → {all?, keepStorage?} collect now
 *   POST   /v1/explain                   → {id}: the ops of the object's recipe that would run, and why (cache/explain.ts)
 *   GET    /v1/cache-volumes/:name       → the volume as a tar stream
 *   PUT    /v1/cache-volumes/:name       → make it from the tar body (?replace=1 to replace one that exists)
 *   POST   /v1/cache-volumes/:name/push  → {ref, owner?}: the volume as an image in a registry
 *   POST   /v1/cache-volumes/:name/pull  → {ref, owner?, replace?}: made from one
 *   POST   /v1/query                     → a session for one request: body {labels, request}; NDJSON events, then the result (session-query.ts)
 *   POST   /v1/sessions                  → {id}; body {labels}
 *   GET    /v1/sessions/:id/events       → NDJSON progress; closing it ends the session
 *   POST   /v1/sessions/:id/query        → GraphQL over JSON ({query, variables?, operationName?})
 *   POST   /v1/sessions/:id/calls/:call  → the client's answer to a call (see http/session-protocol.ts)
 *   GET    /v1/sessions/:id/calls/:call/input → what the engine sends with a call (exports)
 *   DELETE /v1/sessions/:id
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import type { Duplex } from "node:stream";
import { InvalidArgumentError, messageOf } from "../errors.js";
import { ndjsonWriter, readJson, sendError, sendJson, statusOf } from "../http/json.js";
import { parseRequest } from "../schema/run-query.js";
import { VERSION } from "../version.js";
import { withReserve } from "./disk-reserve.js";
import type { Engine } from "./engine.js";
import { header, oneShotQuery, querySession, sessionLabels } from "./session-query.js";
import { handleTunnelUpgrade } from "./tunnels.js";
import { volumeEndpoint, volumeRegistryEndpoint } from "./volume-endpoints.js";

/**
 * The request handler. On a unix socket, the socket's permissions are the
 * access control; on TCP every request must carry `Authorization: Bearer
 * <token>`, the engine's token.
 */
export function createHandler(engine: Engine, opts: { token?: string } = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = opts.token === undefined ? undefined : Buffer.from(`Bearer ${opts.token}`);
  return (req, res) => {
    if (expected) {
      const got = Buffer.from(req.headers.authorization ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        req.resume();
        return sendJson(res, 401, { error: "missing or wrong engine token (Authorization: Bearer …)" });
      }
    }
    handle(engine, req, res).catch((err: unknown) => {
      const status = statusOf(err);
      if (status >= 500) engine.log.error("request failed", { path: req.url, error: messageOf(err) });
      else engine.log.debug("bad request", { path: req.url, status, error: messageOf(err) });
      // GraphQL clients read `errors`; the engine's own clients read `error`.
      const graphql = /\/query(\?|$)/.test(req.url ?? "");
      sendError(req, res, err, (message) => (graphql ? { errors: [{ message }] } : { error: message }), status);
    });
  };
}

async function handle(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://engine");
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] !== "v1") return sendJson(res, 404, { error: `no such endpoint ${url.pathname}` });

  if (req.method === "GET" && parts[1] === "health") return sendJson(res, 200, { version: VERSION });
  if (req.method === "GET" && parts[1] === "stats") {
    return sendJson(res, 200, {
      sessions: engine.sessions.size,
      platforms: engine.platforms,
      ...engine.solver.stats,
      ...(engine.remoteCache ? { remoteCache: engine.remoteCache.stats } : {}),
      ...(engine.clientCaches.stats ? { clientRemoteCache: engine.clientCaches.stats } : {}),
      ...(engine.network ? { network: { ready: engine.network.stats().ready, inUse: engine.network.stats().inUse } } : {}),
    });
  }
  if (req.method === "GET" && parts[1] === "du") return sendJson(res, 200, await engine.collector.usage());
  if (req.method === "POST" && parts[1] === "prune") {
    const body = await readJson(req);
    const opts = { all: body["all"] === true, ...(typeof body["keepStorage"] === "number" ? { keepBytes: body["keepStorage"] } : {}) };
    // On a full disk the prune gives up the engine's space reserve to be able to run at all.
    return sendJson(res, 200, await withReserve(path.resolve(engine.config.root), () => engine.collector.prune(opts)));
  }
  if (req.method === "POST" && parts[1] === "explain") {
    const id = (await readJson(req))["id"];
    if (typeof id !== "string" || id === "") throw new InvalidArgumentError('want {"id": "<an object ID>"}');
    return sendJson(res, 200, engine.explain(id));
  }
  if (parts[1] === "cache-volumes" && parts.length === 4) return volumeRegistryEndpoint(engine, req, res, decodeURIComponent(parts[2]!), parts[3]!);
  if (parts[1] === "cache-volumes" && parts.length === 3) return volumeEndpoint(engine, req, res, decodeURIComponent(parts[2]!), url.searchParams);
  if (req.method === "POST" && parts[1] === "query" && parts.length === 2) return oneShotQuery(engine, req, res);
  if (parts[1] !== "sessions") return sendJson(res, 404, { error: `no such endpoint ${url.pathname}` });

  if (req.method === "POST" && parts.length === 2) {
    const labels = sessionLabels((await readJson(req))["labels"]);
    // A bad cache config refuses the session, with the entry named.
    const remoteCache = engine.sessionRemoteCache(labels);
    const session = engine.sessions.create(labels);
    session.remoteCache = remoteCache;
    engine.log.debug("session opened", { session: session.id });
    return sendJson(res, 201, { id: session.id });
  }

  const session = parts[2] ? engine.sessions.get(parts[2]) : undefined;
  if (!session) return sendJson(res, 404, { error: `session ${JSON.stringify(parts[2] ?? "")} not found` });

  if (req.method === "GET" && parts[3] === "events") {
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    res.flushHeaders();
    // Events can outlive the stream (a call made as the client hangs up): writing after the end would throw.
    session.attach(ndjsonWriter(res));
    session.signal.addEventListener("abort", () => res.end(), { once: true });
    res.on("close", () => {
      engine.log.debug("session closed", { session: session.id });
      engine.sessions.end(session.id);
    });
    return;
  }
  if (req.method === "POST" && parts[3] === "query") {
    const request = parseRequest(await readJson(req));
    if (typeof request === "string") return sendJson(res, 400, { errors: [{ message: request }] });
    // A client that hangs up cancels its request's work (if no one else waits on it).
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const signal = AbortSignal.any([abort.signal, session.signal]);
    return sendJson(res, 200, await querySession(engine, session, request, signal, header(req, "traceparent")));
  }
  if (parts[3] === "calls" && parts[4]) {
    if (req.method === "POST" && parts.length === 5) return session.calls.reply(parts[4], req, res);
    if (req.method === "GET" && parts[5] === "input") return session.calls.input(parts[4], res);
  }
  if (req.method === "DELETE" && parts.length === 3) {
    // Ending the session also ends its event stream, after what it had queued.
    engine.sessions.end(session.id);
    return sendJson(res, 200, {});
  }
  return sendJson(res, 405, { error: `${req.method} not allowed on ${url.pathname}` });
}

/** HTTP upgrades: tunnels from the client to a session's services. */
export function createUpgradeHandler(engine: Engine, opts: { token?: string } = {}): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const expected = opts.token === undefined ? undefined : Buffer.from(`Bearer ${opts.token}`);
  return (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    if (expected) {
      const got = Buffer.from(req.headers.authorization ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) return void socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n");
    }
    // /v1/sessions/:sid/tunnels/:tid/:port, or /v1/sessions/:sid/dials/:id
    const parts = new URL(req.url ?? "/", "http://engine").pathname.split("/").filter(Boolean);
    if (parts[0] === "v1" && parts[1] === "sessions" && parts[3] === "dials") {
      const waiting = engine.sessions.get(parts[2] ?? "")?.dials;
      const accept = waiting?.get(parts[4] ?? "");
      if (!accept) return void socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      waiting!.delete(parts[4]!);
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: tanto-tunnel\r\nConnection: Upgrade\r\n\r\n");
      if (head.length > 0) socket.unshift(head);
      return accept(socket);
    }
    const session = parts[0] === "v1" && parts[1] === "sessions" && parts[3] === "tunnels" ? engine.sessions.get(parts[2] ?? "") : undefined;
    handleTunnelUpgrade(req, socket, head, session?.tunnels.get(parts[4] ?? ""), Number(parts[5]));
  };
}
