/**
 * The http-file op: a downloaded blob (in the content store, by digest) as
 * a snapshot holding one file. Its origin names the URL, so an engine that
 * does not hold the content (another engine, or after a collection) fetches
 * it again and checks it against the digest; the origin is outside the cache
 * key, so identical content is one key wherever it came from.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { ContentStore } from "../content/types.js";
import { FailedPreconditionError } from "../errors.js";
import { type Digest, digestHex } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";
import type { HttpSource } from "../sources/http-source.js";
import type { SecretKey } from "./exec-types.js";

export interface HttpFileOp {
  kind: "http-file";
  [arg: string]: unknown;
  digest: Digest;
  origin: {
    url: string;
    /** The secret whose value was the Authorization header, if any. */
    auth?: SecretKey;
  };
  /** A single path component. */
  name: string;
  permissions: number;
  /** Modification time of the file, seconds since the epoch (Last-Modified, else 0): part of the key, as it is of the file. */
  mtime?: number;
}

export class HttpFileOpRunner implements OpRunner {
  readonly kind = "http-file";
  readonly cacheable = true;

  constructor(private readonly deps: { content: ContentStore; snapshots: OverlaySnapshotter; http: HttpSource }) {}

  async run(v: Vertex, _inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as HttpFileOp;
    const { content, snapshots } = this.deps;
    if (!(await content.info(op.digest))) {
      const { url, auth } = op.origin;
      const authorization = auth ? ctx.secrets?.plaintext(auth) : undefined;
      if (auth && authorization === undefined) {
        throw new FailedPreconditionError(`fetching "${url}" again needs secret "${auth.name}", which this session does not hold`);
      }
      await this.deps.http.fetch(url, {
        checksum: op.digest,
        ...(authorization !== undefined ? { authorization } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    }
    const active = await snapshots.prepare(undefined);
    try {
      const file = path.join(active.upperDir, op.name);
      await fs.copyFile(content.path(op.digest), file);
      await fs.chmod(file, op.permissions);
      await fs.utimes(file, op.mtime ?? 0, op.mtime ?? 0);
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    }
    const committed = await snapshots.commit(active, `http/${digestHex(v.digest)}`);
    // The record owns the download: the collector removes them together.
    return { snapshot: committed.name, meta: {}, owns: { blobs: [op.digest] } };
  }
}

/** A file name that stays in its directory. */
export function isPlainName(name: string): boolean {
  return typeof name === "string" && name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}
