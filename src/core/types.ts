/**
 * What the core objects need from the engine to evaluate themselves: the
 * solver, images, snapshots, and the session the request belongs to.
 */
import type { Duplex } from "node:stream";
import type { Leases } from "../gc/leases.js";
import type { HostMirrors, SyncResult } from "../hostsync/host-mirror.js";
import type { ClientHost, TunnelTarget } from "../http/client-host.js";
import type { ImageExporter } from "../images/image-exporter.js";
import type { ImageStore, ResolvedImage } from "../images/image-store.js";
import type { ServiceManager } from "../services/service-manager.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { Solver } from "../solver/solver.js";
import type { ProgressEvent } from "../solver/types.js";
import type { GitSource } from "../sources/git-source.js";
import type { HttpSource } from "../sources/http-source.js";
import type { EngineCacheAccess } from "./engine-cache.js";
import type { SecretStore } from "./secrets.js";

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
  /** The client asked for a terminal in the state of a command that fails (`-i`, see ops/exec-debug.ts). */
  readonly interactive?: boolean;
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
  /** The cache as the API sees it (Query.engine); absent in tests that need none. */
  readonly cache?: EngineCacheAccess;
}

/** Per-request context handed to every resolver. */
export interface RequestContext {
  readonly deps: CoreDeps;
  readonly session: Session;
  readonly signal: AbortSignal;
  /** The API call's span: the work it solves hangs under it. */
  readonly span?: string;
}
