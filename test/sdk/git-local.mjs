// Host.findUp, Directory.asGit and GitRepository.uncommitted through the
// official SDK. Run with its working directory in <tmp>/repo/sub, where the
// test made a git repository <tmp>/repo with uncommitted changes.
import { writeFileSync } from "node:fs";
import { dag } from "@dagger.io/dagger";
import { failure, report } from "./common.mjs";

const late = process.env.LATE_NAME;
await report(async (out) => {
  const host = dag.host();
  out.findGit = await host.findUp(".git");
  out.findHere = await host.findUp("s.txt");
  out.findNone = await host.findUp(`${late}-never`);
  out.lateBefore = await host.findUp(late);
  writeFileSync(`../../${late}`, "late\n");
  out.lateCached = await host.findUp(late);
  out.lateFresh = await host.findUp(late, { noCache: true });
  out.badName = await failure(host.findUp("../x"));
  // `~` is the client's home (HOME of the test).
  out.home = await host.directory("~").entries();
  out.homeFile = await host.file("~/h.txt").contents();

  const repo = host.directory("..").asGit();
  out.branches = await repo.branches();
  out.tags = await repo.tags();
  out.url = await repo.url();
  out.head = await repo.head().commit();
  out.main = await repo.branch("main").commit();
  out.feature = await repo.branch("feature").commit();
  out.tag = await repo.tag("v1.0.0").commit();
  out.mainTree = await repo.branch("main").tree().entries();
  out.headFile = (await repo.head().tree().file(".git/HEAD").contents()).trim();
  out.featureB = await repo.branch("feature").tree().file("b.txt").contents();
  out.tagTree = await repo.tag("v1.0.0").tree({ discardGitDir: true }).entries();
  out.byCommit = await repo.commit(out.feature).tree({ discardGitDir: true }).entries();
  out.ancestor = await repo.branch("feature").commonAncestor(repo.branch("main")).commit();
  // A checkout's paths all at 1s past the epoch, as Dagger sets them (read-only: no overlay upper of its own).
  out.checkoutMtimes = (
    await dag
      .container()
      .from(process.env.TANTO_TEST_IMAGE)
      .withMountedDirectory("/src", repo.branch("feature").tree(), { readOnly: true })
      .withExec(["stat", "-c", "%Y", "/src", "/src/b.txt", "/src/sub/s.txt", "/src/.git/HEAD"])
      .stdout()
  )
    .trim()
    .split("\n");
  out.unknownBranch = await failure(repo.branch("nope").commit());

  const changes = repo.uncommitted();
  out.added = await changes.addedPaths();
  out.modified = await changes.modifiedPaths();
  out.removed = await changes.removedPaths();
  out.beforeA = await changes.before().file("a.txt").contents();
  out.afterA = await changes.after().file("a.txt").contents();
  out.ignoredKept = await changes.before().file("x.log").contents();
  // A checkout is clean; its own .git makes it a repository again.
  out.cleanEmpty = await repo.head().tree().asGit().uncommitted().isEmpty();
  out.notRepo = await failure(dag.directory().withNewFile("f", "x").asGit().head().commit());
  // IDs of local repositories and refs load back.
  const id = await repo.branch("feature").id();
  out.refById = await dag.loadGitRefFromID(id).commit();
  // Query.id: the root's own ID, of type Query.
  out.queryId = await dag.id();
  out.queryIdTyped = await failure(dag.loadContainerFromID(out.queryId).id());
});
