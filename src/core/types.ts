/**
 * What the core objects need from the engine to evaluate themselves: the
 * solver, images, snapshots, and the session the request belongs to.
 */
import type { Duplex, Readable } from "node:stream";
import type { Leases } from "../gc/leases.js";
import type { HostMirrors, SyncResult } from "../hostsync/host-mirror.js";
import type {
  ReadFilesParams,
  StatTreeParams,
  StatTreeResult,
  TunnelDialParams,
  TunnelListenParams,
  TunnelListenResult,
  WriteParams,
} from "../http/session-protocol.js";
import type { ImageExporter } from "../images/image-exporter.js";
import type { ImageStore, ResolvedImage } from "../images/image-store.js";
import type { ServiceManager } from "../services/service-manager.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { Solver } from "../solver/solver.js";
import type { ProgressEvent } from "../solver/types.js";
import type { GitSource } from "../sources/git-source.js";
import type { HttpSource } from "../sources/http-source.js";
import type { SecretStore } from "./secrets.js";

/**
 * The client's machine, reached through the session: the engine never reads
 * or writes the client's disk itself, so it works the same in a container or
 * on another host.
 */
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
  /** Send a tar stream to be written at `path` on the client; returns the path written. */
  write(params: WriteParams, tar: Readable, signal?: AbortSignal): Promise<string>;
}

/** Where a session's tunnel leads: a service address and the ports it may reach. */
export interface TunnelTarget {
  host: string;
  ports: ReadonlySet<number>;
}

export interface Session {
  readonly id: string;
  /** Open tunnels from the client to services, by id. */
  readonly tunnels: Map<string, TunnelTarget>;
  /** Connections from containers waiting for the client to dial in (host services), by id. */
  readonly dials: Map<string, (clientSide: Duplex) => void>;
  readonly host: ClientHost;
  /** Ends with the session: cancels what only it was waiting for. */
  readonly signal: AbortSignal;
  /** Tag → digest resolutions, pinned for the session's lifetime. */
  readonly resolved: Map<string, Promise<ResolvedImage>>;
  /** Client directories synced in this session, by request. */
  readonly hostSyncs: Map<string, Promise<SyncResult>>;
  /** Plaintexts of the session's secrets (memory only). */
  readonly secrets: SecretStore;
  /** Names the client's machine, so mirrors of its directories are reused across sessions. */
  readonly clientKey: string;
  progress(event: ProgressEvent): void;
}

export interface CoreDeps {
  readonly solver: Solver;
  readonly images: ImageStore;
  /** Images out: export, archives, publish (src/images/image-exporter.ts). */
  readonly exporter: ImageExporter;
  readonly snapshots: OverlaySnapshotter;
  readonly hostMirrors: HostMirrors;
  readonly leases: Leases;
  readonly services: ServiceManager;
  /** Remote sources: git repositories and HTTP downloads. */
  readonly git: GitSource;
  readonly http: HttpSource;
  /** Scratch directory for temporary mount points. */
  readonly runDir: string;
  readonly version: string;
  readonly defaultPlatform: string;
}

/** Per-request context handed to every resolver. */
export interface RequestContext {
  readonly deps: CoreDeps;
  readonly session: Session;
  readonly signal: AbortSignal;
}
