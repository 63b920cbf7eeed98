import assert from "node:assert/strict";
import { test } from "node:test";
import { gitRefString, parseGitRef } from "./git-ref.js";

test("parseGitRef: refs without a scheme, as Dagger reads them", () => {
  assert.deepEqual(parseGitRef("github.com/org/repo/sub/dir@v1.2.3"), {
    scheme: "",
    cloneUrl: "https://github.com/org/repo",
    sourceRepo: "github.com/org/repo",
    subdir: "sub/dir",
    version: "v1.2.3",
    repoRoot: "github.com/org/repo",
  });
  assert.deepEqual(parseGitRef("github.com/org/repo"), {
    scheme: "",
    cloneUrl: "https://github.com/org/repo",
    sourceRepo: "github.com/org/repo",
    subdir: ".",
    version: "",
    repoRoot: "github.com/org/repo",
  });
  // The version is everything after the path's first "@", slashes included.
  assert.equal(parseGitRef("github.com/org/repo/sub@feature/x").version, "feature/x");
  assert.equal(parseGitRef("github.com/org/repo/sub@feature/x").subdir, "sub");
  // Elsewhere the repository ends at `.git`; a port stays with the host.
  const local = parseGitRef("127.0.0.1:8080/srv/mod.git/sub@main");
  assert.equal(local.cloneUrl, "https://127.0.0.1:8080/srv/mod.git");
  assert.equal(local.subdir, "sub");
  assert.equal(local.repoRoot, "127.0.0.1:8080/srv/mod");
  // No `.git` on an unknown host: host/org/repo.
  assert.equal(parseGitRef("git.example.com/team/tools/ci").cloneUrl, "https://git.example.com/team/tools");
  assert.equal(parseGitRef("git.example.com/team/tools/ci").subdir, "ci");
});

test("parseGitRef: schemes, users and scp-like refs", () => {
  const h = parseGitRef("http://127.0.0.1:9418/smart/mod.git/sub@v1.0.0");
  assert.equal(h.cloneUrl, "http://127.0.0.1:9418/smart/mod.git");
  assert.equal(h.sourceRepo, "http://127.0.0.1:9418/smart/mod.git");
  assert.equal(h.subdir, "sub");
  assert.equal(h.version, "v1.0.0");
  const scp = parseGitRef("git@github.com:org/repo/sub@main");
  assert.equal(scp.scheme, "scp");
  assert.equal(scp.cloneUrl, "git@github.com:org/repo");
  assert.equal(scp.sourceRepo, "git@github.com:org/repo");
  assert.equal(scp.subdir, "sub");
  assert.equal(scp.version, "main");
  // ssh:// clones as user git unless the ref names one; the port goes with the host.
  assert.equal(parseGitRef("ssh://host.example:2222/org/repo.git").cloneUrl, "ssh://git@host.example:2222/org/repo.git");
  assert.equal(parseGitRef("ssh://me@host.example/org/repo").cloneUrl, "ssh://me@host.example/org/repo");
  assert.equal(parseGitRef("https://gitlab.com/group/project/mod").cloneUrl, "https://gitlab.com/group/project");
});

test("parseGitRef: refused refs name what is wrong", () => {
  assert.throws(() => parseGitRef("github.com/org/repo/../../etc"), /points out of root: "\.\.\/\.\.\/etc"/);
  assert.throws(() => parseGitRef("github.com/org/repo@"), /empty version/);
  assert.throws(() => parseGitRef("example.com"), /no repository path/);
});

test("gitRefString: repository, subpath and version as Dagger writes them", () => {
  assert.equal(gitRefString("github.com/org/repo", "sub", "v1"), "github.com/org/repo/sub@v1");
  assert.equal(gitRefString("github.com/org/repo", ".", ""), "github.com/org/repo");
  assert.equal(gitRefString("git@github.com:org/repo", "a/b", "main"), "git@github.com:org/repo/a/b@main");
});
