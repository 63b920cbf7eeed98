/**
 * The client's end of a session: an HTTP server on 127.0.0.1 that speaks the
 * protocol the official SDKs expect (POST /query, Basic auth with the session
 * token as user name) and forwards each request (`query`, `variables`,
 * `operationName`) to the engine, tagged with the session. Progress from the
 * engine is printed on stderr. `openEngineSession` is the session without
 * that server, for a client that sends its queries itself (`tanto query`):
 * no listener, no token (nor node:crypto and node:dns loaded for them).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import { InvalidArgumentError } from "../errors.js";
import { readJson, sendError, sendJson, statusOf } from "../http/json.js";
import type { SpanRecorder } from "../telemetry/otlp.js";
import { serveCall } from "./calls.js";
import type { EngineClient, GraphQLRequestBody } from "./engine-client.js";
import { PlainProgress, type ProgressView } from "./progress.js";
import { closeTunnels } from "./tunnels.js";

/** The session an SDK talks to: the engine session, and the local endpoint that forwards its queries. */
export interface ClientSession extends EngineSession {
  readonly port: number;
  readonly token: string;
}

export interface SessionOptions {
  labels: Record<string, string>;
  progress?: ((line: string) => void) | ProgressView;
  /** The trace the session's spans join (default: $TRACEPARENT). */
  traceparent?: string;
  /** Export the session's spans from here (the engine then does not). */
  otlp?: SpanRecorder;
}

/** A session on the engine whose client is this process (progress, host calls), queried through `engine.query`. */
export interface EngineSession {
  readonly sessionId: string;
  /** Resolves when the engine side of the session ends. */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

export async function openEngineSession(engine: EngineClient, opts: SessionOptions): Promise<EngineSession> {
  // Names this machine, so the engine reuses its mirrors of our directories;
  // the trace we run in (an SDK's, or `tanto run`'s) parents the engine's spans.
  const trace = opts.traceparent ?? process.env["TRACEPARENT"];
  const sessionId = await engine.openSession({
    ...opts.labels,
    "tanto.client.host": os.hostname(),
    // Dagger's client cache config, for the engine to import from and export to (server/sessions.ts).
    ...cacheLabels(process.env),
    ...(trace ? { "tanto.traceparent": trace } : {}),
    ...(opts.otlp ? { "tanto.otel.client-exports": "1" } : {}),
  });
  let endedResolve!: () => void;
  const ended = new Promise<void>((r) => (endedResolve = r));
  const view: ProgressView | undefined = typeof opts.progress === "function" ? new PlainProgress(opts.progress) : opts.progress;
  const print = (e: Parameters<ProgressView["event"]>[0]): void => {
    opts.otlp?.record(e);
    view?.event(e);
  };
  const workdir = process.cwd();
  // A terminal lent to the engine takes the screen: the view stops drawing until it ends.
  const terminalHooks = { suspend: () => view?.suspend?.() ?? (() => undefined) };
  const detach = engine.attachEvents(
    sessionId,
    (event) => (event.type === "call" ? void serveCall(engine, sessionId, workdir, event, terminalHooks) : print(event)),
    endedResolve,
  );
  return {
    sessionId,
    ended,
    close: async () => {
      closeTunnels();
      // Let the engine flush the last progress events before hanging up.
      await engine.closeSession(sessionId);
      await Promise.race([ended, new Promise((r) => setTimeout(r, 1000).unref())]);
      detach();
      view?.close();
      engine.close();
    },
  };
}

export async function openClientSession(engine: EngineClient, opts: SessionOptions): Promise<ClientSession> {
  const { sessionId, ended, close } = await openEngineSession(engine, opts);
  const token = randomBytes(24).toString("base64url");
  const expected = Buffer.from("Basic " + Buffer.from(token + ":").toString("base64"));
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? "");
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return sendJson(res, 401, { errors: [{ message: "missing or wrong session token" }] });
    }
    if (req.method !== "POST" || !(req.url === "/query" || req.url?.startsWith("/query?"))) {
      return sendJson(res, 404, { errors: [{ message: `no such endpoint ${req.method} ${req.url}` }] });
    }
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    readJson(req)
      .then(async (body) => {
        const { query, variables, operationName } = body;
        if (typeof query !== "string") return sendJson(res, 400, { errors: [{ message: 'request body needs a "query" string' }] });
        // Forwarded as sent: the engine checks variables and operationName.
        const request = { query, ...(variables !== undefined ? { variables } : {}), ...(operationName !== undefined ? { operationName } : {}) };
        // The SDK's span for this request parents the engine's call span.
        const traceparent = typeof req.headers.traceparent === "string" ? req.headers.traceparent : undefined;
        const answer = await engine.query(sessionId, request as GraphQLRequestBody, abort.signal, traceparent);
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
        res.end(answer);
      })
      .catch((err: unknown) => {
        // A bad request is the SDK's (4xx); anything else came from the way to the engine (502).
        const status = err instanceof InvalidArgumentError ? statusOf(err) : 502;
        sendError(req, res, err, (message) => ({ errors: [{ message }] }), status);
      });
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    sessionId,
    ended,
    close: async () => {
      server.close();
      server.closeAllConnections();
      await close();
    },
  };
}

function cacheLabels(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  const both = env["_EXPERIMENTAL_DAGGER_CACHE_CONFIG"];
  const imports = env["_EXPERIMENTAL_DAGGER_CACHE_IMPORT_CONFIG"];
  const exports = env["_EXPERIMENTAL_DAGGER_CACHE_EXPORT_CONFIG"];
  if (both) out["tanto.cache.config"] = both;
  if (imports) out["tanto.cache.import"] = imports;
  if (exports) out["tanto.cache.export"] = exports;
  return out;
}
