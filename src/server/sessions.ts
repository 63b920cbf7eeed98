/**
 * Sessions on the engine side. A session is opened by a client process
 * (`tanto session`, `tanto run`, `tanto query`) and lives as long as that
 * client keeps its event stream open; when it closes, everything the session
 * held is released and work only it was waiting for is cancelled.
 */
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { SecretStore } from "../core/secrets.js";
import type { Session } from "../core/types.js";
import type { SyncResult } from "../hostsync/host-mirror.js";
import type { TunnelTarget } from "../http/client-host.js";
import { INTERACTIVE_LABEL, type SessionEvent } from "../http/session-protocol.js";
import type { ResolvedImage } from "../images/image-store.js";
import type { BuiltSchema } from "../schema/build.js";
import { SessionSchema } from "../schema/session-schema.js";
import type { ProgressEvent, RemoteRecords } from "../solver/types.js";
import { metrics } from "../telemetry/metrics.js";
import type { OtlpExport, SpanRecorder } from "../telemetry/otlp.js";
import { newTraceId, parseTraceParent, type TraceParent } from "../telemetry/types.js";
import { ClientCalls } from "./client-calls.js";
import { RemoteClientHost } from "./remote-client-host.js";

/** The session label naming the client's machine (set by the tanto CLI). */
export const CLIENT_LABEL = "tanto.client.host";

/** The session label carrying the client's W3C traceparent. */
export const TRACEPARENT_LABEL = "tanto.traceparent";

/** Set by a client that exports the session's spans over OTLP itself. */
export const CLIENT_EXPORTS_LABEL = "tanto.otel.client-exports";
/** The client's cache config (`_EXPERIMENTAL_DAGGER_CACHE_CONFIG`, `…_IMPORT_CONFIG`, `…_EXPORT_CONFIG`), as the client's environment had them. */
export const CACHE_CONFIG_LABELS = { both: "tanto.cache.config", imports: "tanto.cache.import", exports: "tanto.cache.export" } as const;

/** A session that never attaches its event stream is dropped after this. */
const ATTACH_TIMEOUT_MS = 30_000;

export class EngineSession implements Session {
  readonly id = randomBytes(16).toString("hex");
  readonly resolved = new Map<string, Promise<ResolvedImage>>();
  readonly hostSyncs = new Map<string, Promise<SyncResult>>();
  readonly #abort = new AbortController();
  readonly calls = new ClientCalls((event) => this.#send(event));
  readonly dials = new Map<string, (clientSide: Duplex) => void>();
  readonly host = new RemoteClientHost(this.calls, this.dials);
  /** Open tunnels to services, by id (see tunnels.ts). */
  readonly tunnels = new Map<string, TunnelTarget>();
  #listener: ((event: SessionEvent) => void) | undefined;
  #attachTimer: NodeJS.Timeout;

  /** The client's trace (its `TRACEPARENT`): API call spans hang under its span. */
  get traceParent(): TraceParent | undefined {
    return parseTraceParent(this.labels[TRACEPARENT_LABEL]);
  }

  /** The client asked for a terminal when a command fails (`-i`). */
  get interactive(): boolean {
    return this.labels[INTERACTIVE_LABEL] === "1";
  }

  get clientKey(): string {
    return this.labels[CLIENT_LABEL] ?? "unknown-client";
  }

  readonly secrets: SecretStore;
  /** The remote cache the client asked for, used instead of the engine's (set when the session is made). */
  remoteCache: RemoteRecords | undefined;
  /** The core schema plus what this session added to it. */
  readonly schema: SessionSchema;

  constructor(
    readonly labels: Record<string, string>,
    secretSalt: Buffer,
    coreSchema: () => BuiltSchema,
    onExpire: () => void,
  ) {
    this.secrets = new SecretStore(secretSalt);
    this.schema = new SessionSchema(coreSchema);
    this.#attachTimer = setTimeout(onExpire, ATTACH_TIMEOUT_MS).unref();
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  progress(event: ProgressEvent): void {
    this.#recorder?.record(event);
    this.#send(event);
  }

  #recorder: SpanRecorder | undefined;
  /** Export this session's spans (unless its client exports them itself). */
  exportTo(otlp: OtlpExport): void {
    if (this.labels[CLIENT_EXPORTS_LABEL] === "1") return;
    this.#recorder = otlp.recorder(this.traceParent?.traceId ?? newTraceId());
  }

  #send(event: SessionEvent): boolean {
    if (!this.#listener) return false;
    this.#listener(event);
    return true;
  }

  attach(listener: (event: SessionEvent) => void): void {
    clearTimeout(this.#attachTimer);
    this.#listener = listener;
  }

  end(): void {
    clearTimeout(this.#attachTimer);
    this.#listener = undefined;
    const reason = new Error(`session ${this.id} ended`);
    this.calls.failAll(reason);
    this.secrets.clear();
    this.#abort.abort(reason);
  }
}

export class SessionManager {
  readonly #sessions = new Map<string, EngineSession>();
  constructor(
    private readonly secretSalt: Buffer,
    /** The engine's core schema, shared by every session that does not extend it. */
    readonly coreSchema: () => BuiltSchema,
    /** Called once a session has ended (to release what it held). */
    private readonly onEnd: (id: string) => void = () => undefined,
  ) {}

  create(labels: Record<string, string>): EngineSession {
    const s: EngineSession = new EngineSession(labels, this.secretSalt, this.coreSchema, () => this.end(s.id));
    this.#sessions.set(s.id, s);
    if (this.otlp) s.exportTo(this.otlp);
    metrics.sessionsOpened.inc();
    metrics.sessions.set(this.#sessions.size);
    return s;
  }

  /** Where sessions' spans go over OTLP (OTEL_EXPORTER_OTLP_* in the engine's environment). */
  otlp: OtlpExport | undefined;

  get count(): number {
    return this.#sessions.size;
  }

  get(id: string): EngineSession | undefined {
    return this.#sessions.get(id);
  }

  /** The live sessions of one client machine. */
  ofClient(clientKey: string): EngineSession[] {
    return [...this.#sessions.values()].filter((s) => s.clientKey === clientKey && !s.signal.aborted);
  }

  end(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    metrics.sessions.set(this.#sessions.size);
    s.end();
    this.onEnd(id);
  }

  endAll(): void {
    for (const id of [...this.#sessions.keys()]) this.end(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** IDs of the live sessions. */
  ids(): string[] {
    return [...this.#sessions.values()].filter((s) => !s.signal.aborted).map((s) => s.id);
  }
}
