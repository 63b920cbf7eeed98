/**
 * A session on the engine whose client is this process: opened with the
 * client's labels, its event stream kept open (progress printed, the engine's
 * calls to this host served), closed after the engine flushed its last events.
 * `tanto query` sends its queries itself through it; session-server.ts puts
 * the endpoint the SDKs talk to in front of it. Loads no HTTP server nor
 * node:crypto (a `tanto query` is over in tens of milliseconds).
 */
import * as os from "node:os";
import type { SpanRecorder } from "../telemetry/otlp.js";
import { serveCall } from "./calls.js";
import type { EngineClient } from "./engine-client.js";
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
