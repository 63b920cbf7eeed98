/**
 * The changeset merge op (Changeset.withChangeset / withChangesets), with
 * Debian's git, as Dagger merges: each changeset becomes a patch
 * (`git diff --binary` of its two trees) and a branch off a common base (the
 * op's first input: the changesets' `before` trees laid over one another),
 * then the branches are merged — two-way with the conflict mode's `-X`
 * option, or octopus for more than two. The merged worktree is the result.
 *
 *   inputs: [base, ...sources]   each side names its before/after by source index (-1: empty)
 *
 * Conflict modes (Dagger's ChangesetMergeConflict): FAIL_EARLY refuses before
 * merging when a file is added in two changesets, modified in two, or
 * modified in one and removed in another; FAIL lets git try and fails when it
 * cannot; LEAVE_CONFLICT_MARKERS keeps git's markers and, for modify/delete,
 * the modified file; PREFER_OURS / PREFER_THEIRS take one side's hunks and,
 * for modify/delete, that side's choice. The repository lives outside the
 * tree (scratch) and is thrown away.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { withMounted } from "../mount/mount.js";
import { digestHex } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { CommittedSnapshot } from "../snapshots/types.js";
import { withSnapshotView } from "../snapshots/view.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";
import { mustGit, runGit } from "../sources/git-local.js";

export type MergeConflictMode = "FAIL" | "FAIL_EARLY" | "LEAVE_CONFLICT_MARKERS" | "PREFER_OURS" | "PREFER_THEIRS";

export interface MergeSide {
  before: number;
  beforePath: string;
  after: number;
  afterPath: string;
}

export interface ChangesetMergeOp {
  kind: "changeset-merge";
  [arg: string]: unknown;
  /** Ours first, then the changesets merged into it, in order. */
  sides: MergeSide[];
  onConflict: MergeConflictMode;
  /** withChangesets: one octopus merge of every side (FAIL and FAIL_EARLY only). */
  octopus: boolean;
}

type Status = "A" | "M" | "D";

export class ChangesetMergeOpRunner implements OpRunner {
  readonly kind = "changeset-merge";
  readonly cacheable = true;

  constructor(private readonly deps: { snapshots: OverlaySnapshotter; runDir: string }) {}

  async run(v: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as ChangesetMergeOp;
    const { snapshots, runDir } = this.deps;
    const snap = (i: number): CommittedSnapshot | undefined => {
      const name = i < 0 ? undefined : inputs[i + 1]?.snapshot;
      return name === undefined ? undefined : snapshots.get(name);
    };
    const baseName = inputs[0]?.snapshot;
    const active = await snapshots.prepare(baseName === undefined ? undefined : snapshots.get(baseName));
    const scratch = path.join(runDir, `merge-${randomBytes(6).toString("hex")}`);
    await fs.mkdir(scratch, { recursive: true });
    try {
      // Each changeset as a patch against its own before tree.
      const patches: string[] = [];
      for (const [i, side] of op.sides.entries()) {
        const file = path.join(scratch, `side-${i}.patch`);
        await withSnapshotView(snapshots, snap(side.before), runDir, (b) =>
          withSnapshotView(snapshots, snap(side.after), runDir, async (a) =>
            writePatch(
              await resolveInRoot(b, side.beforePath, { followLast: true }),
              await resolveInRoot(a, side.afterPath, { followLast: true }),
              scratch,
              file,
              ctx.signal,
            ),
          ),
        );
        patches.push(file);
      }
      await withMounted(snapshots.mounts(active), path.join(runDir, `merge-root-${randomBytes(6).toString("hex")}`), (root) =>
        merge(root, path.join(scratch, "repo.git"), patches, op, ctx.signal),
      );
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
    const committed = await snapshots.commit(active, `merge/${digestHex(v.digest)}`);
    return { snapshot: committed.name, meta: {} };
  }
}

/** `git diff --binary` from `before` to `after`, paths prefixed a/ and b/ (as `git apply` takes them). */
async function writePatch(before: string, after: string, scratch: string, file: string, signal?: AbortSignal): Promise<void> {
  const pair = path.join(scratch, `pair-${randomBytes(4).toString("hex")}`);
  await fs.mkdir(pair);
  try {
    await fs.symlink(before, path.join(pair, "a"));
    await fs.symlink(after, path.join(pair, "b"));
    const args = ["diff", "--no-index", "--no-renames", "--binary", "--src-prefix=", "--dst-prefix=", "a/", "b/"];
    const text = await mustGit(args, { cwd: pair, ok: [1], ...(signal ? { signal } : {}) });
    // With empty prefixes git names an added or removed file after its one side in the header.
    await fs.writeFile(file, text.replace(/^diff --git [ab]\/(.*) [ab]\/(.*)$/gm, "diff --git a/$1 b/$2"));
  } finally {
    await fs.rm(pair, { recursive: true, force: true });
  }
}

async function merge(root: string, gitDir: string, patches: readonly string[], op: ChangesetMergeOp, signal?: AbortSignal): Promise<void> {
  const opts = { cwd: root, env: { GIT_DIR: gitDir, GIT_WORK_TREE: root }, ...(signal ? { signal } : {}) };
  const git = (...args: string[]) => mustGit(args, opts);
  await git("init", "-q", "--template=", "-b", "base");
  // -f: a tree's .gitignore does not hide its files from the merge.
  await git("add", "-A", "-f");
  await git("commit", "-q", "--allow-empty", "--no-verify", "-m", "base");
  const changed: Map<string, Status>[] = [];
  const branches: string[] = [];
  for (const [i, patch] of patches.entries()) {
    // Dagger's branch names, which conflict markers show (<<<<<<< HEAD … >>>>>>> theirs).
    const branch = i === 0 ? "ours" : op.octopus ? `branch_${i - 1}` : "theirs";
    await git("checkout", "-q", "-b", branch, "base");
    if ((await fs.stat(patch)).size > 0) {
      const r = await runGit(["apply", "--whitespace=nowarn", patch], opts);
      if (r.code !== 0) throw new FailedPreconditionError(`changeset ${i} does not apply onto the merged before directories: ${r.stderr.trim()}`);
    }
    await git("add", "-A", "-f");
    await git("commit", "-q", "--allow-empty", "--no-verify", "-m", branch);
    changed.push(parseNameStatus(await git("diff", "--name-status", "--no-renames", "-z", "base", branch)));
    branches.push(branch);
  }
  // Changesets that change nothing take no part (the first is ours: it stays).
  const others = branches.slice(1).filter((_, i) => changed[i + 1]!.size > 0);
  const conflicts = findConflicts(changed, op.octopus);
  if (op.onConflict === "FAIL_EARLY" && conflicts.length > 0) {
    throw new FailedPreconditionError(`changesets conflict: ${conflicts.map((c) => `${c.path} (${c.why})`).join(", ")}`);
  }
  await git("checkout", "-q", "ours");
  if (others.length === 0) return;
  const args = ["merge", "-q", "--no-edit", "--no-commit", "--no-ff"];
  if (op.onConflict === "PREFER_OURS") args.push("-X", "ours");
  if (op.onConflict === "PREFER_THEIRS") args.push("-X", "theirs");
  const merged = await runGit([...args, ...others], opts);
  const tolerant = !op.octopus && (op.onConflict === "LEAVE_CONFLICT_MARKERS" || op.onConflict === "PREFER_OURS" || op.onConflict === "PREFER_THEIRS");
  if (merged.code !== 0 && !tolerant) {
    const unmerged = (await runGit(["diff", "--name-only", "--diff-filter=U"], opts)).stdout.trim().split("\n").filter(Boolean);
    throw new FailedPreconditionError(
      `changesets conflict${unmerged.length ? ` at ${unmerged.join(", ")}` : ""}: ${(merged.stdout + merged.stderr).trim().split("\n").slice(-3).join(" ")}`,
    );
  }
  if (!tolerant) return;
  // modify/delete: git leaves the modified file; pick per mode.
  const ours = changed[0]!;
  const theirs = changed[1]!;
  for (const c of conflicts.filter((x) => x.why === "modified and removed")) {
    const useOurs = op.onConflict === "PREFER_OURS" || (op.onConflict === "LEAVE_CONFLICT_MARKERS" && theirs.get(c.path) === "D");
    const deleted = (useOurs ? ours : theirs).get(c.path) === "D";
    if (deleted) await git("rm", "-q", "--force", "--", c.path);
    else await git("checkout", useOurs ? "--ours" : "--theirs", "--", c.path);
  }
}

function parseNameStatus(out: string): Map<string, Status> {
  const fields = out.split("\0");
  const m = new Map<string, Status>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const s = fields[i]!.charAt(0);
    if (s === "A" || s === "D") m.set(fields[i + 1]!, s);
    else if (s) m.set(fields[i + 1]!, "M"); // M, T (type change)
  }
  return m;
}

interface Conflict {
  path: string;
  why: "added twice" | "modified twice" | "modified and removed";
}

/** File-level conflicts between ours and each other side (and, for an octopus, between every pair). */
function findConflicts(changed: readonly Map<string, Status>[], everyPair: boolean): Conflict[] {
  const out: Conflict[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < changed.length; i++) {
    for (let j = i + 1; j < changed.length; j++) {
      if (i > 0 && !everyPair) continue;
      for (const [p, a] of changed[i]!) {
        const b = changed[j]!.get(p);
        if (!b || seen.has(p)) continue;
        const why =
          a === "A" && b === "A"
            ? "added twice"
            : a === "M" && b === "M"
              ? "modified twice"
              : a !== b && a !== "A" && b !== "A"
                ? "modified and removed"
                : undefined;
        if (why) {
          seen.add(p);
          out.push({ path: p, why });
        }
      }
    }
  }
  return out;
}
