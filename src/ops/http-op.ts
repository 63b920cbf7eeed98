/**
 * The http-file op: a downloaded blob (already in the content store, by
 * digest) as a snapshot holding one file. The URL is not part of the op, so
 * identical content is one cache key wherever it came from.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { ContentStore } from "../content/types.js";
import { FailedPreconditionError } from "../errors.js";
import { type Digest, digestHex, isDigest } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { OpRunner, Result, Vertex } from "../solver/types.js";

export interface HttpFileOp {
  kind: "http-file";
  digest: Digest;
  /** A single path component. */
  name: string;
  permissions: number;
}

export class HttpFileOpRunner implements OpRunner {
  readonly kind = "http-file";
  readonly cacheable = true;

  constructor(private readonly deps: { content: ContentStore; snapshots: OverlaySnapshotter }) {}

  async run(v: Vertex): Promise<Result> {
    const op = v.op as unknown as HttpFileOp;
    const { content, snapshots } = this.deps;
    // Ops come back in client-supplied IDs: check what the resolver checked.
    if (!isDigest(op.digest) || !isPlainName(op.name) || !Number.isInteger(op.permissions) || op.permissions < 0 || op.permissions > 0o7777) {
      throw new FailedPreconditionError(`malformed http-file op: ${JSON.stringify(op)}`);
    }
    if (!(await content.info(op.digest))) {
      throw new FailedPreconditionError(`downloaded content ${op.digest} for "${op.name}" is gone from the content store; fetch the URL again`);
    }
    const active = await snapshots.prepare(undefined);
    try {
      const file = path.join(active.upperDir, op.name);
      await fs.copyFile(content.path(op.digest), file);
      await fs.chmod(file, op.permissions);
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    }
    const committed = await snapshots.commit(active, `http/${digestHex(v.digest)}`);
    return { snapshot: committed.name, meta: {} };
  }
}

/** A file name that stays in its directory. */
export function isPlainName(name: string): boolean {
  return typeof name === "string" && name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}
