/**
 * What travels on a session's event stream (engine → client, NDJSON):
 * progress events, and calls through which the engine asks the client for
 * things only the client has — its files, a place to write exports. The
 * client answers a call with `POST /v1/sessions/:sid/calls/:id` (header
 * `x-tanto-call: ok|error`, body JSON or a tar stream); when a call carries
 * input (an export), the client first reads it from
 * `GET /v1/sessions/:sid/calls/:id/input`.
 */
import type { SpanEvent } from "../telemetry/types.js";

/**
 * Progress of the session's work, for the client to show: spans (API calls,
 * ops, pulls, services) as they start and end, with ids and parents, their
 * output, and lines for the user. The engine forwards the solver's own events
 * as they are.
 */
export type ProgressEvent = SpanEvent;

export interface CallEvent {
  type: "call";
  id: string;
  method: string;
  params: unknown;
  hasInput: boolean;
}

export type SessionEvent = ProgressEvent | CallEvent;

export const CALL_STATUS_HEADER = "x-tanto-call";

/** `POST /v1/query` (a session for one request): the session's id, in the answer's headers. */
export const SESSION_HEADER = "x-tanto-session";
/** `POST /v1/query`: the type of its answer's last line, `{type, result: <the GraphQL response>}`. */
export const ONE_SHOT_RESULT = "result";

/** Session label of a client run with `--interactive`: a failed command opens a terminal on it. */
export const INTERACTIVE_LABEL = "tanto.interactive";

/** One entry of a client directory listing (`host.statTree`). */
export interface HostEntry {
  /** Path relative to the listed directory, `/`-separated. */
  path: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  size: number;
  /** Modification time in nanoseconds, as a decimal string (exceeds 2^53). */
  mtimeNs: string;
  target?: string;
}

export interface StatTreeParams {
  path: string;
  include: string[];
  exclude: string[];
  gitignore: boolean;
  /** List only this many levels (1: the directory's own entries); default: the whole tree. */
  depth?: number;
}

export interface StatTreeResult {
  /** The absolute path on the client. */
  root: string;
  /** "dir" for a directory listing; "file" when `path` named one file. */
  kind: "dir" | "file";
  entries: HostEntry[];
}

export interface ReadFilesParams {
  root: string;
  files: string[];
}

export interface WriteParams {
  path: string;
  kind: "dir" | "file";
  wipe: boolean;
  allowParentDirPath: boolean;
  /** Whiteouts in the tar remove those paths on the client (Changeset.export). */
  deletions?: boolean;
}

export interface TunnelListenParams {
  /** The tunnel's id: connections are opened at /v1/sessions/:sid/tunnels/:id/:backend. */
  id: string;
  ports: Array<{ frontend?: number; backend: number }>;
  /** Listen on random ports instead of the frontends. */
  random: boolean;
}

export interface TunnelListenResult {
  ports: Array<{ frontend: number; backend: number }>;
}

/** Connect to `host:port` on the client and carry it through an upgrade to /v1/sessions/:sid/dials/:id. */
export interface TunnelDialParams {
  id: string;
  host: string;
  port: number;
  /** Connect to this unix socket of the client instead of host:port (withUnixSocket). */
  socket?: string;
}
