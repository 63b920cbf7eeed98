/**
 * The host-dir op: a directory (or file) of a client's machine, named by its
 * content digest (its origin, the client and path, is outside the cache key). The engine holds it as the snapshot `host/<digest>` once a
 * session of that client has sent it; an engine that does not hold it (a
 * second engine, or after a collection) asks a live session of the same
 * client to send it again, and accepts it only with the same content.
 */
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { type Digest, digestHex } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";

export interface HostDirOp {
  kind: "host-dir";
  [arg: string]: unknown;
  digest: Digest;
  type: "dir" | "file";
  origin: {
    /** The client machine that has the files (a session label). */
    client: string;
    /** The path on the client, and the filters it was read with. */
    path: string;
    include: string[];
    exclude: string[];
    gitignore: boolean;
    /**
     * Set when the content was copied out of a module function's runtime
     * (`currentModule.workdir`/`workdirFile`, src/modules/workdir.ts): the module's
     * name. No client can send it again; only calling the function again makes it.
     */
    workdirOf?: string;
  };
}

/** The snapshot name of client content. */
export function hostSnapshotName(digest: Digest): string {
  return `host/${digestHex(digest)}`;
}

/** Send the files again through a session of `op.client`; resolves to the content digest received. */
export type HostResync = (op: HostDirOp, ctx: SolveContext) => Promise<Digest>;

export class HostDirOpRunner implements OpRunner {
  readonly kind = "host-dir";
  readonly cacheable = false;

  constructor(
    private readonly snapshots: OverlaySnapshotter,
    private readonly resync: HostResync,
  ) {}

  async run(v: Vertex, _inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as HostDirOp;
    const name = hostSnapshotName(op.digest);
    if (this.snapshots.get(name)) return { snapshot: name, meta: {} };
    if (op.origin.workdirOf !== undefined) {
      const field = op.type === "dir" ? "workdir" : "workdirFile";
      throw new NotFoundError(
        `currentModule.${field} ${JSON.stringify(op.origin.path)} of module ${JSON.stringify(op.origin.workdirOf)} (content ${op.digest}) is gone: this engine no longer holds its snapshot ${name} (removed by garbage collection or a prune). Call the module's function that returned it again for a new one`,
      );
    }
    const got = await this.resync(op, ctx);
    if (got !== op.digest) {
      throw new FailedPreconditionError(
        `host path "${op.origin.path}" of client ${op.origin.client} has changed since this ID was made (content ${got}, the ID names ${op.digest}): load it again with host().${op.type === "dir" ? "directory" : "file"}()`,
      );
    }
    if (!this.snapshots.get(name)) throw new FailedPreconditionError(`host path "${op.origin.path}": snapshot ${name} is missing after a sync`);
    return { snapshot: name, meta: {} };
  }
}
