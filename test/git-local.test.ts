/** Host.findUp, Directory.asGit and GitRepository.uncommitted through the official SDK, on a repository made with Debian's git. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { sdkEngine } from "./support/sdk-engine.js";

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@x",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@x",
};
const git = (cwd: string, ...args: string[]): string => execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" }).trim();

/** <tmp>/repo: main (a, c, sub/s, .gitignore) tagged v1.0.0, feature (+ b); the worktree with every kind of change. */
async function makeRepo(): Promise<{ tmp: string; repo: string; commits: Record<string, string> }> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-gitlocal-"));
  const repo = path.join(tmp, "repo");
  await fs.mkdir(path.join(repo, "sub"), { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  git(repo, "remote", "add", "origin", "https://example.invalid/repo.git");
  await fs.writeFile(path.join(repo, "a.txt"), "one\n");
  await fs.writeFile(path.join(repo, "c.txt"), "gone soon\n");
  await fs.writeFile(path.join(repo, "sub", "s.txt"), "s\n");
  await fs.writeFile(path.join(repo, ".gitignore"), "*.log\n");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "first");
  git(repo, "tag", "-a", "v1.0.0", "-m", "release");
  git(repo, "checkout", "-q", "-b", "feature");
  await fs.writeFile(path.join(repo, "b.txt"), "bee\n");
  git(repo, "add", "b.txt");
  git(repo, "commit", "-q", "-m", "second");
  git(repo, "checkout", "-q", "main");
  const commits = { main: git(repo, "rev-parse", "main"), feature: git(repo, "rev-parse", "feature") };
  await fs.writeFile(path.join(repo, "a.txt"), "one\nmore\n");
  await fs.rm(path.join(repo, "c.txt"));
  await fs.writeFile(path.join(repo, "new.txt"), "untracked\n");
  await fs.mkdir(path.join(repo, "newdir"));
  await fs.writeFile(path.join(repo, "newdir", "n.txt"), "n\n");
  await fs.writeFile(path.join(repo, "staged.txt"), "staged\n");
  git(repo, "add", "staged.txt");
  await fs.writeFile(path.join(repo, "x.log"), "ignored\n");
  return { tmp, repo, commits };
}

describe("local git repositories and findUp through the SDK", () => {
  const t = sdkEngine();

  test("Host.findUp, Directory.asGit (refs, trees, commonAncestor), GitRepository.uncommitted", async () => {
    const { tmp, repo, commits } = await makeRepo();
    const late = `late-${randomBytes(4).toString("hex")}`;
    const home = path.join(tmp, "home");
    await fs.mkdir(path.join(home, "d"), { recursive: true });
    await fs.writeFile(path.join(home, "h.txt"), "home file\n");
    const out = await t.program("git-local.mjs", { cwd: path.join(repo, "sub"), env: { LATE_NAME: late, HOME: home } });

    assert.equal(out["findGit"], "../.git");
    assert.equal(out["findHere"], "s.txt");
    assert.equal(out["findNone"], null);
    assert.equal(out["lateBefore"], null);
    assert.equal(out["lateCached"], null, "answers are kept for the session");
    assert.equal(out["lateFresh"], `../../${late}`, "noCache asks the client again");
    assert.match(String(out["badName"]), /findUp: name must be a relative name without "\.\."/);
    assert.deepEqual(out["home"], ["d/", "h.txt"]);
    assert.equal(out["homeFile"], "home file\n");

    assert.deepEqual(out["branches"], ["feature", "main"]);
    assert.deepEqual(out["tags"], ["v1.0.0"]);
    assert.equal(out["url"], null);
    assert.equal(out["head"], commits["main"]);
    assert.equal(out["main"], commits["main"]);
    assert.equal(out["feature"], commits["feature"]);
    assert.equal(out["tag"], commits["main"], "an annotated tag is peeled to its commit");
    assert.deepEqual(out["mainTree"], [".git/", ".gitignore", "a.txt", "c.txt", "sub/"]);
    assert.equal(out["headFile"], commits["main"], "the checkout's .git is detached at the commit");
    assert.equal(out["featureB"], "bee\n");
    assert.deepEqual(out["tagTree"], [".gitignore", "a.txt", "c.txt", "sub/"]);
    assert.deepEqual(out["byCommit"], [".gitignore", "a.txt", "b.txt", "c.txt", "sub/"]);
    assert.equal(out["ancestor"], commits["main"]);
    assert.deepEqual(out["checkoutMtimes"], ["1", "1", "1", "1"], "every path of a local checkout at 1s past the epoch");
    assert.match(String(out["unknownBranch"]), /local git repository .* has no branch "nope"/);

    assert.deepEqual(out["added"], ["new.txt", "newdir/", "newdir/n.txt", "staged.txt"]);
    assert.deepEqual(out["modified"], ["a.txt"]);
    assert.deepEqual(out["removed"], ["c.txt"]);
    assert.equal(out["beforeA"], "one\n");
    assert.equal(out["afterA"], "one\nmore\n");
    assert.equal(out["ignoredKept"], "ignored\n", "ignored files are not uncommitted changes");
    assert.equal(out["cleanEmpty"], true);
    assert.match(String(out["notRepo"]), /not a git repository: it holds no \.git/);
    assert.equal(out["refById"], commits["feature"]);
    assert.match(String(out["queryId"]), /^tanto\d+\.[A-Za-z0-9_-]+$/);
    assert.match(String(out["queryIdTyped"]), /ID is a Query, expected a Container/);

    // The client's repository is only read.
    const status = execFileSync("git", ["status", "--porcelain"], { cwd: repo, env: GIT_ENV, encoding: "utf8" }).split("\n").filter(Boolean).sort();
    assert.deepEqual(status, [" D c.txt", " M a.txt", "?? new.txt", "?? newdir/", "A  staged.txt"]);
    await fs.rm(tmp, { recursive: true, force: true });
  });
});

describe("changeset merges through the SDK", () => {
  const t = sdkEngine();

  test("withChangeset (each conflict mode, modify/delete, binary files) and withChangesets (octopus)", async () => {
    const out = await t.program("changeset-merge.mjs");
    assert.deepEqual(out["added"], ["n1.txt", "n2.txt", "r.bin"]);
    assert.deepEqual(out["modified"], ["a.txt"]);
    assert.deepEqual(out["removed"], ["b.txt"]);
    assert.equal(out["mergedA"], "one\n2\n3\n4\n5\n6\n7\n8\nnine\n");
    assert.equal(out["binSame"], true);
    assert.deepEqual(out["applied"], ["a.txt", "c.txt", "n1.txt", "n2.txt", "r.bin"]);
    assert.match(String(out["failEarlyDisjoint"]), /changesets conflict: a\.txt \(modified twice\)/);

    assert.match(String(out["fail"]), /changesets conflict at a\.txt/);
    assert.match(String(out["failEarly"]), /changesets conflict: a\.txt \(modified twice\)/);
    assert.match(String(out["markers"]), /^<<<<<<< HEAD\none\n=======\nuno\n>>>>>>> theirs\n2\n/);
    assert.equal(out["ours"], "one\n2\n3\n4\n5\n6\n7\n8\n9\n");
    assert.equal(out["theirs"], "uno\n2\n3\n4\n5\n6\n7\n8\n9\n");

    assert.match(String(out["mdFail"]), /changesets conflict at c\.txt/);
    assert.equal(out["mdMarkers"], "c edited\n", "modify/delete keeps the modified file");
    assert.equal(out["mdOurs"], null);
    assert.equal(out["mdTheirs"], "c edited\n");

    assert.deepEqual(out["octoEntries"], ["a.txt", "b.txt", "c.txt", "n1.txt", "sub/", "sub/n3.txt"]);
    assert.equal(out["octoB"], "b edited\n");
    assert.equal(out["octoA"], "one\n2\n3\n4\n5\n6\n7\n8\n9\n");
    assert.match(String(out["octoFail"]), /changesets conflict/);
    assert.match(String(out["octoFailEarly"]), /changesets conflict: a\.txt \(modified twice\)/);
    assert.match(String(out["octoPair"]), /changesets conflict: a\.txt \(modified twice\)/);
    assert.deepEqual(out["none"], ["n1.txt"]);
    assert.deepEqual(out["reloaded"], ["a.txt", "c.txt"]);
  });
});
