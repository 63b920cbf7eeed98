/**
 * A session on the engine whose client is this process: opened with the
 * client's labels, its event stream kept open (progress printed, the engine's
 * calls to this host served), closed after the engine flushed its last events;
 * or, for one request (`tanto query`), a session the engine opens and ends
 * around it (queryInOwnSession: one round trip). session-server.ts puts the
 * endpoint the SDKs talk to in front of a session. Loads no HTTP server nor
 * node:crypto (a `tanto query` is over in tens of milliseconds).
 */
import * as os from "node:os";
import type { SessionEvent } from "../http/session-protocol.js";
import type { SpanRecorder } from "../telemetry/otlp.js";
import { serveCall } from "./calls.js";
import type { EngineClient, GraphQLRequestBody } from "./engine-client.js";
import { PlainProgress, type ProgressView } from "./progress.js";
import { closeTunnels } from "./tunnels.js";

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
  const sessionId = await engine.openSession(clientLabels(opts));
  let endedResolve!: () => void;
  const ended = new Promise<void>((r) => (endedResolve = r));
  const events = sessionEvents(engine, opts);
  const detach = engine.attachEvents(sessionId, (event) => events.handle(sessionId, event), endedResolve);
  return {
    sessionId,
    ended,
    close: async () => {
      closeTunnels();
      // Let the engine flush the last progress events before hanging up.
      await engine.closeSession(sessionId);
      await Promise.race([ended, new Promise((r) => setTimeout(r, 1000).unref())]);
      detach();
      events.close();
      engine.close();
    },
  };
}

/**
 * One request in a session of its own (`POST /v1/query`, one round trip), its events handled as
 * openEngineSession's; the GraphQL response text, or undefined when the engine cannot (see
 * EngineClient.queryOnce): the caller then opens a session.
 */
export async function queryInOwnSession(engine: EngineClient, request: GraphQLRequestBody, opts: SessionOptions): Promise<string | undefined> {
  const events = sessionEvents(engine, opts);
  const close = (): void => {
    closeTunnels();
    events.close();
  };
  try {
    const answer = await engine.queryOnce(clientLabels(opts), request, (sessionId, event) => events.handle(sessionId, event), opts.traceparent);
    // Not answered: the view goes on to the session the caller opens instead.
    if (answer !== undefined) close();
    return answer;
  } catch (err) {
    close();
    throw err;
  }
}

/**
 * The labels of this client's sessions: the caller's, this machine's name (so the engine reuses its
 * mirrors of our directories), the cache config, and the trace we run in (an SDK's, or `tanto run`'s),
 * which parents the engine's spans.
 */
function clientLabels(opts: SessionOptions): Record<string, string> {
  const trace = opts.traceparent ?? process.env["TRACEPARENT"];
  return {
    ...opts.labels,
    "tanto.client.host": os.hostname(),
    // Dagger's client cache config, for the engine to import from and export to (server/sessions.ts).
    ...cacheLabels(process.env),
    ...(trace ? { "tanto.traceparent": trace } : {}),
    ...(opts.otlp ? { "tanto.otel.client-exports": "1" } : {}),
  };
}

/** What this client does with a session's events: the engine's calls served, the rest shown (and exported). */
function sessionEvents(engine: EngineClient, opts: SessionOptions): { handle(sessionId: string, event: SessionEvent): void; close(): void } {
  const view: ProgressView | undefined = typeof opts.progress === "function" ? new PlainProgress(opts.progress) : opts.progress;
  const workdir = process.cwd();
  // A terminal lent to the engine takes the screen: the view stops drawing until it ends.
  const terminalHooks = { suspend: () => view?.suspend?.() ?? (() => undefined) };
  return {
    handle: (sessionId, event) => {
      if (event.type === "call") return void serveCall(engine, sessionId, workdir, event, terminalHooks);
      opts.otlp?.record(event);
      view?.event(event);
    },
    close: () => view?.close(),
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
