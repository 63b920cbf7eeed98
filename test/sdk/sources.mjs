// git(url) and http(url) through the official SDK, against a git daemon and
// an HTTP server the test runs on 127.0.0.1. Prints a JSON report.
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const gitUrl = process.env.TANTO_GIT_URL;
const firstCommit = process.env.TANTO_GIT_FIRST;
const httpBase = process.env.TANTO_HTTP_BASE;

const failure = async (fn) => {
  try {
    await fn();
    return "no error";
  } catch (err) {
    return String(err.message ?? err);
  }
};

await report(async (out) => {
  const repo = dag.git(gitUrl);
  const v1 = repo.tag("v1").tree({ discardGitDir: true });
  out.v1Entries = await v1.entries();
  out.v1File = await v1.file("a.txt").contents();
  out.v1Commit = await repo.tag("v1").commit();
  out.firstEntries = await repo.commit(firstCommit).tree({ discardGitDir: true }).entries();
  out.mainCommit = await repo.branch("main").commit();
  out.headCommit = await repo.head().commit();
  out.refCommit = await repo.ref("v1").commit();
  out.refName = await repo.ref("v1").ref();
  out.tags = await repo.tags();
  out.branches = await repo.branches();
  out.latest = await repo.latestVersion().ref();
  out.url = await repo.url();
  // Dagger keeps .git by default: a clone detached at the commit.
  out.keptEntries = await repo.branch("main").tree().entries();
  out.keptHead = await repo.branch("main").tree().file(".git/HEAD").contents();
  out.legacyDiscard = await dag.git(gitUrl, { keepGitDir: false }).branch("main").tree().entries();
  // IDs round-trip.
  const refId = await repo.tag("v1").id();
  out.loadedRef = await dag.loadGitRefFromID(refId).commit();
  out.loadedRepo = await dag.loadGitRepositoryFromID(await repo.id()).url();
  out.inContainer = await dag.container().from(image).withDirectory("/src", v1).withExec(["cat", "/src/a.txt"]).stdout();
  out.unknownTag = await failure(() => repo.tag("v9").tree().entries());
  out.unknownBranch = await failure(() => repo.branch("nope").commit());
  out.badCommit = await failure(() => repo.commit("abc").tree().entries());

  const file = dag.http(`${httpBase}/files/hello.txt`);
  out.httpContents = await file.contents();
  out.httpName = await file.name();
  out.httpNamed = await dag.http(`${httpBase}/files/hello.txt`, { name: "greeting", permissions: 0o755 }).name();
  out.httpMode = (
    await dag
      .container()
      .from(image)
      .withFile("/g", dag.http(`${httpBase}/files/hello.txt`, { permissions: 0o755 }))
      .withExec(["stat", "-c", "%a", "/g"])
      .stdout()
  ).trim();
  // The same bytes from another URL: the same cache key downstream (the test counts execs).
  out.viaCopy = await dag
    .container()
    .from(image)
    .withFile("/f", dag.http(`${httpBase}/copy/hello.txt`))
    .withExec(["cat", "/f"])
    .stdout();
  out.viaOriginal = await dag
    .container()
    .from(image)
    .withFile("/f", dag.http(`${httpBase}/files/hello.txt`))
    .withExec(["cat", "/f"])
    .stdout();
  out.checksumMismatch = await failure(() => dag.http(`${httpBase}/files/hello.txt`, { checksum: `sha256:${"0".repeat(64)}` }).contents());
  out.notFound = await failure(() => dag.http(`${httpBase}/missing.txt`).contents());

  // Timestamps: seen by a command, through a mount (nothing copied). Each at its own path: an exec's
  // cache key takes a mounted file by its content, not its times, so the same command would be a hit.
  const mtime = async (f, at) => (await dag.container().from(image).withMountedFile(at, f).withExec(["stat", "-c", "%Y", at]).stdout()).trim();
  out.httpMtime = await mtime(dag.http(`${httpBase}/files/hello.txt`), "/plain");
  const dated = dag.http(`${httpBase}/dated/hello.txt`);
  out.datedMtime = await mtime(dated, "/dated");
  out.datedContents = await dated.contents();
  // Read-only: a writable mount is an overlay whose root takes the times of its fresh upper directory.
  const mtimes = async (d, paths) =>
    (
      await dag
        .container()
        .from(image)
        .withMountedDirectory("/src", d, { readOnly: true })
        .withExec(["stat", "-c", "%Y", ...paths])
        .stdout()
    )
      .trim()
      .split("\n");
  out.gitMtimes = await mtimes(v1, ["/src", "/src/a.txt", "/src/a.txt"]);
  out.keptGitMtimes = await mtimes(repo.branch("main").tree(), ["/src/b.txt", "/src/.git", "/src/.git/HEAD"]);
});
