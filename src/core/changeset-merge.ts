/**
 * Changeset.withChangeset / withChangesets: changesets merged into one. The
 * merged changeset's `before` is every `before` laid over the first (Dagger
 * drops a `.git` there: the merge keeps no repository); its `after` is the
 * changeset-merge op's result (ops/changeset-merge-op.ts), built lazily like
 * any directory, so a conflict surfaces when the merge is evaluated.
 */
import { InvalidArgumentError } from "../errors.js";
import type { ChangesetMergeOp, MergeConflictMode, MergeSide } from "../ops/changeset-merge-op.js";
import type { Vertex } from "../solver/types.js";
import { vertex } from "../solver/vertex.js";
import { Changeset } from "./extra-values.js";
import { type Change, changeFs } from "./filesystem.js";
import { Directory } from "./values.js";

const MODES: readonly MergeConflictMode[] = ["FAIL", "FAIL_EARLY", "LEAVE_CONFLICT_MARKERS", "PREFER_OURS", "PREFER_THEIRS"];

/** `ours` with `others` merged in; `octopus` for withChangesets (FAIL and FAIL_EARLY only). */
export function mergeChangesets(ours: Changeset, others: readonly Changeset[], onConflict: string, octopus: boolean): Changeset {
  const mode = onConflict as MergeConflictMode;
  if (!MODES.includes(mode) || (octopus && mode !== "FAIL" && mode !== "FAIL_EARLY")) {
    const allowed = octopus ? "FAIL, FAIL_EARLY" : MODES.join(", ");
    throw new InvalidArgumentError(`onConflict: ${JSON.stringify(onConflict)} is not one of ${allowed}`);
  }
  if (others.length === 0) return ours;
  const all = [ours, ...others];
  // Befores laid over one another, a repeat of the one before it skipped.
  const changes: Change[] = [];
  let last: string | undefined;
  for (const cs of all) {
    const key = JSON.stringify(cs.before.toJSON());
    if (key === last) continue;
    last = key;
    changes.push({ action: "copy", from: cs.before, dest: "/" });
  }
  changes.push({ action: "rm", path: "/.git", allowNotFound: true });
  const before = new Directory(changeFs(undefined, changes, "merged before"), "/");

  const sources: Vertex[] = [];
  const indexOf = (d: Directory): number => {
    if (!d.source) return -1;
    const i = sources.findIndex((s) => s.digest === d.source?.digest);
    return i >= 0 ? i : sources.push(d.source) - 1;
  };
  const sides: MergeSide[] = all.map((cs) => ({ before: indexOf(cs.before), beforePath: cs.before.path, after: indexOf(cs.after), afterPath: cs.after.path }));
  const op: ChangesetMergeOp = { kind: "changeset-merge", sides, onConflict: mode, octopus };
  const base = before.source;
  if (!base) throw new Error("merged before directory has no vertex");
  const after = new Directory(vertex(op, [base, ...sources], `merge ${all.length} changesets (${mode})`), "/");
  return new Changeset(before, after);
}
