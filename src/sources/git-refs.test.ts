import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { isCommitSha, latestVersionTag, listRefNames, lookupRef, normalizeGitUrl, parseLsRemote } from "./git-refs.js";
import { fileNameFromUrl } from "./http-source.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const T = "f".repeat(40);
const LS = [
  "ref: refs/heads/main\tHEAD",
  `${A}\tHEAD`,
  `${A}\trefs/heads/main`,
  `${B}\trefs/heads/feature/x`,
  `${T}\trefs/tags/v1.2.0`,
  `${C}\trefs/tags/v1.2.0^{}`,
  `${B}\trefs/tags/v1.10.0-rc.1`,
  `${B}\trefs/tags/v1.9.9`,
  `${A}\trefs/tags/main`,
  "",
].join("\n");

test("ls-remote output: refs, peeled annotated tags, HEAD's target", () => {
  const r = parseLsRemote(LS);
  assert.equal(r.head, "refs/heads/main");
  assert.equal(r.refs.get("refs/tags/v1.2.0"), C, "annotated tags resolve to the commit, not the tag object");
  assert.equal(r.refs.get("HEAD"), A);
});

test("branches, tags and ambiguous refs resolve like git does", () => {
  const r = parseLsRemote(LS);
  const url = "https://example.com/r.git";
  assert.deepEqual(lookupRef(r, url, { kind: "branch", name: "feature/x" }), { ref: "refs/heads/feature/x", commit: B });
  assert.deepEqual(lookupRef(r, url, { kind: "branch", name: "refs/heads/main" }), { ref: "refs/heads/main", commit: A });
  assert.deepEqual(lookupRef(r, url, { kind: "tag", name: "v1.2.0" }), { ref: "refs/tags/v1.2.0", commit: C });
  assert.deepEqual(lookupRef(r, url, { kind: "head" }), { ref: "HEAD", commit: A });
  // git rev-parse prefers a tag over a branch of the same name.
  assert.equal(lookupRef(r, url, { kind: "ref", name: "main" }).ref, "refs/tags/main");
  assert.throws(
    () => lookupRef(r, url, { kind: "tag", name: "v9" }),
    (e: unknown) => e instanceof NotFoundError && /"https:\/\/example.com\/r.git" has no tag "v9"/.test(e.message),
  );
});

test("ref listings filter by trailing components; latest semver tag", () => {
  const r = parseLsRemote(LS);
  assert.deepEqual(listRefNames(r, "refs/heads/", []), ["feature/x", "main"]);
  assert.deepEqual(listRefNames(r, "refs/tags/", ["refs/tags/v1.*"]), ["v1.10.0-rc.1", "v1.2.0", "v1.9.9"]);
  assert.deepEqual(listRefNames(r, "refs/heads/", ["x"]), ["feature/x"]);
  assert.equal(latestVersionTag(r), "v1.10.0-rc.1");
  assert.equal(latestVersionTag(parseLsRemote(`${A}\trefs/tags/v2.0.0-rc.1\n${A}\trefs/tags/v2.0.0\n${A}\trefs/tags/v10.0.0-beta\n`)), "v10.0.0-beta");
  assert.equal(latestVersionTag(parseLsRemote(`${A}\trefs/tags/v2.0.0-rc.1\n${A}\trefs/tags/v2.0.0\n`)), "v2.0.0");
  assert.equal(latestVersionTag(parseLsRemote(`${A}\trefs/tags/release\n`)), undefined);
});

test("remote URLs only: the engine's disk is not a git source", () => {
  assert.equal(normalizeGitUrl("https://example.com/r.git"), "https://example.com/r.git");
  assert.equal(normalizeGitUrl("git@github.com:dagger/dagger.git"), "git@github.com:dagger/dagger.git");
  assert.equal(normalizeGitUrl("github.com/dagger/dagger"), "https://github.com/dagger/dagger");
  for (const bad of ["file:///etc", "/var/lib/tanto", "ext::sh -c id", "-uhelp", "../repo"]) {
    assert.throws(() => normalizeGitUrl(bad), InvalidArgumentError, bad);
  }
  assert.ok(isCommitSha(A));
  assert.ok(!isCommitSha("abc"));
});

test("file names from URLs", () => {
  assert.equal(fileNameFromUrl("https://example.com/dl/tool.tar.gz?x=1"), "tool.tar.gz");
  assert.equal(fileNameFromUrl("https://example.com/a%20b"), "a b");
  assert.equal(fileNameFromUrl("https://docs.dagger.io"), "index");
  assert.equal(fileNameFromUrl("https://example.com/x/%2e%2e"), "index");
});
