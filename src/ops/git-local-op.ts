/**
 * The local git op: work on a repository that a directory holds (asGit), the
 * directory's snapshot being the op's one input.
 *
 *   mode "checkout": the tree of `commit` as a new snapshot of its own (with a
 *     `.git` when keepGitDir), read from the input's repository;
 *   mode "cleaned": the input with the repository's worktree put back to its
 *     HEAD commit (GitRepository.uncommitted compares the two).
 *
 * The commit and the input's digest name the result, so both modes cache.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { withMounted } from "../mount/mount.js";
import { digestHex } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { withSnapshotView } from "../snapshots/view.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";
import { checkoutLocal, cleanWorktree } from "../sources/git-local.js";

export interface GitLocalOp {
  kind: "git-local";
  [arg: string]: unknown;
  mode: "checkout" | "cleaned";
  /** Where the repository's directory is in the input. */
  path: string;
  /** checkout: the full commit SHA. */
  commit?: string;
  /** checkout: keep a `.git` with `depth` commits of history (0: all). */
  keepGitDir?: true;
  depth?: number;
}

export class GitLocalOpRunner implements OpRunner {
  readonly kind = "git-local";
  readonly cacheable = true;

  constructor(private readonly deps: { snapshots: OverlaySnapshotter; runDir: string }) {}

  async run(v: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as GitLocalOp;
    const { snapshots, runDir } = this.deps;
    const name = inputs[0]?.snapshot;
    const input = name === undefined ? undefined : snapshots.get(name);
    if (!input) throw new FailedPreconditionError("directory is not a git repository: it is empty");
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    const scratch = path.join(runDir, `git-local-${randomBytes(6).toString("hex")}`);
    await fs.mkdir(scratch, { recursive: true });
    const active = await snapshots.prepare(op.mode === "cleaned" ? input : undefined);
    try {
      if (op.mode === "checkout") {
        await withSnapshotView(snapshots, input, runDir, async (root) => {
          const repo = await resolveInRoot(root, op.path, { followLast: true });
          await checkoutLocal(repo, op.commit ?? "", active.upperDir, { keepGitDir: op.keepGitDir === true, depth: op.depth ?? 1, scratch, ...signal });
        });
      } else {
        await withMounted(snapshots.mounts(active), path.join(runDir, `git-clean-${randomBytes(6).toString("hex")}`), async (root) => {
          await cleanWorktree(await resolveInRoot(root, op.path, { followLast: true }), scratch, ctx.signal);
        });
      }
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
    const committed = await snapshots.commit(active, `git-local/${digestHex(v.digest)}`);
    return { snapshot: committed.name, meta: {} };
  }
}
