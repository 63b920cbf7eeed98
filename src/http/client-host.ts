/**
 * The client's machine as the engine sees it: every method is one call on
 * the session's event stream (see session-protocol.ts), answered by the
 * client. The engine never reads or writes the client's disk itself, so it
 * works the same on the host, in a container or on another machine.
 *
 * Lower layers (hostsync, services) take this interface or a part of it;
 * the server implements it over a session's calls.
 */
import type { Readable } from "node:stream";
import type {
  ReadFilesParams,
  StatTreeParams,
  StatTreeResult,
  TunnelDialParams,
  TunnelListenParams,
  TunnelListenResult,
  WriteParams,
} from "./session-protocol.js";
import type { ClientTerminal } from "./terminal-protocol.js";

export interface ClientHost {
  statTree(params: StatTreeParams, signal?: AbortSignal): Promise<StatTreeResult>;
  /** A tar stream of `files` (relative to `root`), as the client has them now. */
  readFiles(params: ReadFilesParams, signal?: AbortSignal): Promise<{ tar: Readable; done(error?: Error): void }>;
  /** Listen on the client's 127.0.0.1 and tunnel each connection to a service; returns the ports bound. */
  listenTunnel(params: TunnelListenParams, signal?: AbortSignal): Promise<TunnelListenResult>;
  /** Have the client connect to `host:port` on its side and carry the connection in through dial `id`. */
  dial(params: TunnelDialParams, signal?: AbortSignal): Promise<void>;
  /** Resolve a client-side secret URI (env://, file://, cmd://) to its value. */
  resolveSecret(uri: string, signal?: AbortSignal): Promise<string>;
  /** Load an image archive into the client's Docker (`docker load`); returns what Docker said. */
  loadImage(archive: Readable, signal?: AbortSignal): Promise<string>;
  /** `docker save` of an image of the client's Docker, as a tar stream. */
  saveImage(name: string, signal?: AbortSignal): Promise<{ tar: Readable; done(error?: Error): void }>;
  /** The nearest `name` in the client's working directory or its parents, relative to that directory; null when none. */
  findUp(name: string, signal?: AbortSignal): Promise<string | null>;
  /** Borrow the client's terminal (terminal-protocol.ts); fails when the client has none. */
  openTerminal(signal?: AbortSignal): Promise<ClientTerminal>;
  /** Send a tar stream to be written at `path` on the client; returns the path written. */
  write(params: WriteParams, tar: Readable, signal?: AbortSignal): Promise<string>;
}

/** Where a session's tunnel leads: a service address and the ports it may reach. */
export interface TunnelTarget {
  host: string;
  ports: ReadonlySet<number>;
}
