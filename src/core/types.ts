/**
 * What the core objects need from the engine to evaluate themselves: the
 * solver, images, snapshots, and the session the request belongs to.
 */
import type { ImageStore, ResolvedImage } from "../images/image-store.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { Solver } from "../solver/solver.js";
import type { ProgressEvent } from "../solver/types.js";

export interface Session {
  readonly id: string;
  /** Ends with the session: cancels what only it was waiting for. */
  readonly signal: AbortSignal;
  /** Tag → digest resolutions, pinned for the session's lifetime. */
  readonly resolved: Map<string, Promise<ResolvedImage>>;
  progress(event: ProgressEvent): void;
}

export interface CoreDeps {
  readonly solver: Solver;
  readonly images: ImageStore;
  readonly snapshots: OverlaySnapshotter;
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
