/**
 * The snapshot op: a snapshot the engine already holds under a
 * content-addressed name (a synced client directory), as a vertex.
 */
import { FailedPreconditionError } from "../errors.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { OpRunner, Result, Vertex } from "../solver/types.js";

export class SnapshotOpRunner implements OpRunner {
  readonly kind = "snapshot";
  readonly cacheable = false;
  constructor(private readonly snapshots: OverlaySnapshotter) {}

  async run(v: Vertex): Promise<Result> {
    const name = String(v.op["name"]);
    if (!this.snapshots.get(name)) {
      throw new FailedPreconditionError(`snapshot "${name}" is gone (collected since this ID was made); load the source again`);
    }
    return { snapshot: name, meta: {} };
  }
}
