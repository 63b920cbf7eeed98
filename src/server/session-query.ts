/**
 * Running a GraphQL request in a session, for the two endpoints that do:
 * `POST /v1/sessions/:id/query` (a session the client opened before) and
 * `POST /v1/query`, a session for one request — what `tanto query` needs, in
 * one round trip instead of five (open, attach the events, query, end, wait
 * for the end). Its answer is the session's event stream (NDJSON, as `GET
 * /v1/sessions/:id/events`; the session's id in the SESSION_HEADER header, for
 * the client's answers to the engine's calls) ending with
 * `{"type":"result","result":<the GraphQL response>}`; the session ends with it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { InvalidArgumentError, messageOf } from "../errors.js";
import { ndjsonWriter, readJson, sendJson } from "../http/json.js";
import { ONE_SHOT_RESULT, SESSION_HEADER } from "../http/session-protocol.js";
import type { BuiltSchema } from "../schema/build.js";
import { parseRequest, runQuery } from "../schema/run-query.js";
import type { GraphQLRequest } from "../schema/types.js";
import { newSpanId } from "../telemetry/types.js";
import { callName, inCallSpan } from "./call-span.js";
import { explainDiskFull } from "./disk-reserve.js";
import type { Engine } from "./engine.js";
import type { EngineSession } from "./sessions.js";

/** The GraphQL response to `request` in `session` (a failure to build the session's schema is one too). */
export async function querySession(
  engine: Engine,
  session: EngineSession,
  request: GraphQLRequest,
  signal: AbortSignal,
  traceparent: string | undefined,
): Promise<unknown> {
  let schema: BuiltSchema;
  try {
    schema = session.schema.current;
  } catch (err) {
    return { errors: [{ message: messageOf(err) }] };
  }
  const span = newSpanId();
  const run = () => runQuery(schema, request, { deps: engine.deps, session, signal, span });
  const name = callName(request.query, request.operationName ?? undefined);
  // Calls that name no chain (introspection) are not worth a span.
  const result = name === undefined ? await run() : await inCallSpan(session, span, name, run, traceparent);
  return explainDiskFull(path.resolve(engine.config.root), result);
}

/** `POST /v1/query`: body {labels, request: {query, variables?, operationName?}}. */
export async function oneShotQuery(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  const request = parseRequest(body["request"]);
  if (typeof request === "string") return sendJson(res, 400, { errors: [{ message: request }] });
  const labels = sessionLabels(body["labels"]);
  const remoteCache = engine.sessionRemoteCache(labels);
  const session = engine.sessions.create(labels);
  session.remoteCache = remoteCache;
  engine.log.debug("session opened", { session: session.id, oneShot: true });
  res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store", [SESSION_HEADER]: session.id });
  const write = ndjsonWriter(res);
  session.attach(write);
  // A client that hangs up cancels the request's work (if no one else waits on it) and ends the session.
  const abort = new AbortController();
  res.on("close", () => {
    abort.abort();
    engine.sessions.end(session.id);
  });
  let result: unknown;
  try {
    result = await querySession(engine, session, request, AbortSignal.any([abort.signal, session.signal]), header(req, "traceparent"));
  } catch (err) {
    result = { errors: [{ message: messageOf(err) }] };
  }
  write({ type: ONE_SHOT_RESULT, result });
  // The answer first: ending a session starts the engine's work after one (a collection pass).
  res.end();
  engine.log.debug("session closed", { session: session.id });
  engine.sessions.end(session.id);
}

/** Session labels: a JSON object of strings (absent: none). */
export function sessionLabels(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
    throw new InvalidArgumentError(`"labels" must be a JSON object of strings, not ${JSON.stringify(value).slice(0, 100)}`);
  }
  return value as Record<string, string>;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
