/**
 * git(url) and http(url) through the official SDK: a real repository served
 * by `git daemon` and a real HTTP server, both on 127.0.0.1 and started here.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { type GitDaemon, startGitDaemon } from "./support/git-servers.js";

const PROGRAM = path.join(REPO, "test", "sdk", "sources.mjs");
const HELLO = "hello from http\n";

describe("git and http sources through the SDK", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let daemon: GitDaemon | undefined;
  let server: http.Server | undefined;
  const commits: string[] = [];
  const requests: { path: string; ifNoneMatch: string | undefined }[] = [];

  before(async () => {
    const registry = await testRegistry();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-sources-"));
    const repo = path.join(dir, "srv", "repo");
    await fs.mkdir(repo, { recursive: true });
    const gitEnv = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    };
    const git = (...args: string[]): string => execFileSync("git", ["-C", repo, ...args], { env: gitEnv, encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    await fs.writeFile(path.join(repo, "a.txt"), "one\n");
    git("add", ".");
    git("commit", "-q", "-m", "first");
    commits.push(git("rev-parse", "HEAD"));
    git("tag", "-a", "v1", "-m", "version 1");
    await fs.writeFile(path.join(repo, "a.txt"), "two\n");
    await fs.writeFile(path.join(repo, "b.txt"), "b\n");
    git("add", ".");
    git("commit", "-q", "-m", "second");
    commits.push(git("rev-parse", "HEAD"));
    git("tag", "v0.9.0");
    git("branch", "feature");

    daemon = await startGitDaemon(path.join(dir, "srv"), gitEnv);
    const gitPort = daemon.port;

    server = http.createServer((req, res) => {
      requests.push({ path: req.url ?? "", ifNoneMatch: req.headers["if-none-match"] });
      if (req.url === "/dated/hello.txt") {
        res.writeHead(200, { "content-type": "text/plain", "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT" }).end(HELLO);
        return;
      }
      if (req.url === "/files/hello.txt" || req.url === "/copy/hello.txt") {
        if (req.headers["if-none-match"] === '"hello-1"') {
          res.writeHead(304).end();
          return;
        }
        res.writeHead(200, { "content-type": "text/plain", etag: '"hello-1"' }).end(HELLO);
        return;
      }
      res.writeHead(404).end("not here\n");
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const httpPort = (server.address() as net.AddressInfo).port;

    engine = await startEngine({ registry });
    env = {
      ...engine.env,
      TANTO_TEST_IMAGE: `${registry}/busybox:latest`,
      TANTO_GIT_URL: `git://127.0.0.1:${gitPort}/repo`,
      TANTO_GIT_FIRST: commits[0]!,
      TANTO_HTTP_BASE: `http://127.0.0.1:${httpPort}`,
    };
  });

  after(async () => {
    await engine?.destroy();
    await daemon?.stop();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const runProgram = async (): Promise<Record<string, unknown>> => {
    const r = await run([CLI, "run", "node", PROGRAM], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  test("refs resolve to commits; trees, files, IDs and errors", async () => {
    const before = await engine.client.stats();
    const out = await runProgram();
    const [first, second] = commits;
    assert.deepEqual(out["v1Entries"], ["a.txt"]);
    assert.equal(out["v1File"], "one\n");
    assert.equal(out["v1Commit"], first, "an annotated tag resolves to its commit");
    assert.deepEqual(out["firstEntries"], ["a.txt"]);
    assert.equal(out["mainCommit"], second);
    assert.equal(out["headCommit"], second);
    assert.equal(out["refCommit"], first);
    assert.equal(out["refName"], "refs/tags/v1");
    assert.deepEqual(out["tags"], ["v0.9.0", "v1"]);
    assert.deepEqual(out["branches"], ["feature", "main"]);
    assert.equal(out["latest"], "refs/tags/v1");
    assert.equal(out["url"], env["TANTO_GIT_URL"]);
    assert.deepEqual(out["keptEntries"], [".git/", "a.txt", "b.txt"]);
    assert.equal(out["keptHead"], `${second}\n`);
    assert.deepEqual(out["legacyDiscard"], ["a.txt", "b.txt"]);
    assert.equal(out["loadedRef"], first);
    assert.equal(out["loadedRepo"], env["TANTO_GIT_URL"]);
    assert.equal(out["inContainer"], "one\n");
    assert.match(String(out["unknownTag"]), /has no tag "v9"/);
    assert.ok(String(out["unknownTag"]).includes(String(env["TANTO_GIT_URL"])), "the error names the repository");
    assert.match(String(out["unknownBranch"]), /has no branch "nope"/);
    assert.match(String(out["badCommit"]), /invalid commit SHA "abc"/);

    assert.equal(out["httpContents"], HELLO);
    assert.equal(out["httpName"], "hello.txt");
    assert.equal(out["httpNamed"], "greeting");
    assert.equal(out["httpMode"], "755");
    assert.equal(out["viaCopy"], HELLO);
    assert.equal(out["viaOriginal"], HELLO);
    assert.match(String(out["checksumMismatch"]), /digest mismatch/);
    assert.ok(String(out["notFound"]).includes(`${env["TANTO_HTTP_BASE"]}/missing.txt`), String(out["notFound"]));
    assert.match(String(out["notFound"]), /404/);
    // Timestamps as Dagger sets them: a download's is its Last-Modified, else the epoch; a checkout's paths are all at 1s.
    assert.equal(out["httpMtime"], "0", "no Last-Modified: the epoch");
    assert.equal(out["datedMtime"], String(Date.parse("Wed, 21 Oct 2015 07:28:00 GMT") / 1000), "the Last-Modified time");
    assert.equal(out["datedContents"], HELLO);
    assert.deepEqual(out["gitMtimes"], ["1", "1", "1"], "a checkout's files, and the directory itself, at 1s past the epoch");
    assert.deepEqual(out["keptGitMtimes"], ["1", "1", "1"], "the kept .git too");

    const after = await engine.client.stats();
    // git trees: v1 (= first commit, one key), main with .git, main without (legacy): 3 checkouts.
    assert.equal((after.executed["git"] ?? 0) - (before.executed["git"] ?? 0), 3);
    // Three execs, not four, for the copies: the same bytes (and time) from two URLs are one cache key downstream; four for timestamps.
    assert.equal((after.executed["exec"] ?? 0) - (before.executed["exec"] ?? 0), 7);
    // One download per URL (and checksum) per session.
    assert.equal(requests.filter((r) => r.path === "/files/hello.txt").length, 2);
  });

  test("a second session is answered from the cache; downloads revalidate", async () => {
    const before = await engine.client.stats();
    const seen = requests.length;
    const out = await runProgram();
    assert.equal(out["v1File"], "one\n");
    assert.equal(out["httpContents"], HELLO);
    const after = await engine.client.stats();
    assert.equal(after.executed["git"] ?? 0, before.executed["git"] ?? 0, "no git checkout ran");
    assert.equal(after.executed["http-file"] ?? 0, before.executed["http-file"] ?? 0, "no file snapshot was made");
    assert.equal(after.executed["exec"] ?? 0, before.executed["exec"] ?? 0, "no exec ran");
    const again = requests.slice(seen).filter((r) => r.path === "/files/hello.txt");
    assert.ok(again.length > 0 && again.every((r) => r.ifNoneMatch === '"hello-1"'), "revalidated with the ETag");
  });
});
