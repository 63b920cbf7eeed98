// Changeset.withChangeset / withChangesets through the official SDK: clean
// merges, each conflict mode, modify/delete, octopus merges, binary files.
import { ChangesetMergeConflict, ChangesetsMergeConflict, dag } from "@dagger.io/dagger";
import { failure, image, report } from "./common.mjs";

const lines = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
await report(async (out) => {
  const base = dag.directory().withNewFile("a.txt", lines).withNewFile("b.txt", "b\n").withNewFile("c.txt", "c\n");
  const bin = dag.container().from(image).withExec(["sh", "-c", "head -c 4096 /dev/urandom > /r.bin"]).file("/r.bin");

  const first = base.withNewFile("a.txt", lines.replace("1\n", "one\n")).withNewFile("n1.txt", "n1\n").changes(base);
  const last = base
    .withNewFile("a.txt", lines.replace("9\n", "nine\n"))
    .withoutFile("b.txt")
    .withNewFile("n2.txt", "n2\n")
    .withFile("r.bin", bin)
    .changes(base);
  const merged = first.withChangeset(last);
  out.added = await merged.addedPaths();
  out.modified = await merged.modifiedPaths();
  out.removed = await merged.removedPaths();
  out.mergedA = await merged.after().file("a.txt").contents();
  out.binSame = (await merged.after().file("r.bin").digest({ excludeMetadata: true })) === (await bin.digest({ excludeMetadata: true }));
  out.applied = await base.withChanges(merged).entries();
  out.failEarlyDisjoint = await failure(first.withChangeset(last, { onConflict: ChangesetMergeConflict.FailEarly }).isEmpty());

  const other = base.withNewFile("a.txt", lines.replace("1\n", "uno\n")).changes(base);
  out.fail = await failure(first.withChangeset(other).isEmpty());
  out.failEarly = await failure(first.withChangeset(other, { onConflict: ChangesetMergeConflict.FailEarly }).isEmpty());
  out.markers = await first.withChangeset(other, { onConflict: ChangesetMergeConflict.LeaveConflictMarkers }).after().file("a.txt").contents();
  out.ours = await first.withChangeset(other, { onConflict: ChangesetMergeConflict.PreferOurs }).after().file("a.txt").contents();
  out.theirs = await first.withChangeset(other, { onConflict: ChangesetMergeConflict.PreferTheirs }).after().file("a.txt").contents();

  const removeC = base.withoutFile("c.txt").changes(base);
  const editC = base.withNewFile("c.txt", "c edited\n").changes(base);
  const cOf = async (mode) => {
    const d = removeC.withChangeset(editC, { onConflict: mode }).after();
    return (await d.exists("c.txt")) ? await d.file("c.txt").contents() : null;
  };
  out.mdFail = await failure(removeC.withChangeset(editC).isEmpty());
  out.mdMarkers = await cOf(ChangesetMergeConflict.LeaveConflictMarkers);
  out.mdOurs = await cOf(ChangesetMergeConflict.PreferOurs);
  out.mdTheirs = await cOf(ChangesetMergeConflict.PreferTheirs);

  const editB = base.withNewFile("b.txt", "b edited\n").changes(base);
  const addN3 = base.withNewFile("sub/n3.txt", "n3\n").changes(base);
  const empty = base.changes(base);
  const octopus = first.withChangesets([editB, addN3, empty]);
  out.octoEntries = await octopus.after().glob("**");
  out.octoB = await octopus.after().file("b.txt").contents();
  out.octoA = await octopus.after().file("a.txt").contents();
  out.octoFail = await failure(first.withChangesets([editB, other]).isEmpty());
  out.octoFailEarly = await failure(first.withChangesets([editB, addN3, other], { onConflict: ChangesetsMergeConflict.FailEarly }).isEmpty());
  // Other sides conflicting with each other (not with ours) count too.
  out.octoPair = await failure(empty.withChangesets([first, other], { onConflict: ChangesetsMergeConflict.FailEarly }).isEmpty());
  out.none = await first.withChangesets([]).addedPaths();
  // A merged changeset's ID loads back and merges again.
  const id = await merged.id();
  out.reloaded = await dag.loadChangesetFromID(id).withChangeset(editC).modifiedPaths();
});
