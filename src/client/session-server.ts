/**
 * The client's end of a session for the SDKs: an HTTP server on 127.0.0.1
 * that speaks the protocol the official SDKs expect (POST /query, Basic auth
 * with the session token as user name) and forwards each request (`query`,
 * `variables`, `operationName`) to the engine, tagged with the session
 * (engine-session.ts, which `tanto query` uses alone).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError } from "../errors.js";
import { readJson, sendError, sendJson, statusOf } from "../http/json.js";
import type { EngineClient, GraphQLRequestBody } from "./engine-client.js";
import { type EngineSession, openEngineSession, type SessionOptions } from "./engine-session.js";

export type { EngineSession, SessionOptions } from "./engine-session.js";

/** The session an SDK talks to: the engine session, and the local endpoint that forwards its queries. */
export interface ClientSession extends EngineSession {
  readonly port: number;
  readonly token: string;
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
