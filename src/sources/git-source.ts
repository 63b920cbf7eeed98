/**
 * Git repositories, through Debian's `git` (spawned; never a JS git).
 *
 * Two steps, like BuildKit's git source: `listRefs(url)` asks the remote what
 * its refs point at (`git ls-remote`), so a branch or tag becomes a commit
 * SHA before anything is cached; `checkout(url, commit, dest)` fetches that
 * commit into a bare cache repository kept per URL (`<root>/repos/<hash>`,
 * reused by later fetches) and writes its tree into `dest`.
 *
 *   const refs = await git.listRefs("https://example.com/repo.git");
 *   const { commit } = lookupRef(refs, url, { kind: "tag", name: "v1" }); // git-refs.ts
 *   await git.checkout(url, commit, upperDir, { keepGitDir: false, depth: 1 });
 *
 * git runs with no user or system configuration (HOME is an empty directory,
 * GIT_CONFIG_NOSYSTEM), never prompts, and may not use the `file` or `ext`
 * transports for remote URLs: the engine's own disk is not a git source.
 */

import { randomBytes } from "node:crypto";
import { renameSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { EngineError, InvalidArgumentError, NotFoundError, UnavailableError } from "../errors.js";
import { digestHex, sha256 } from "../oci/digest.js";
import { listEntries, mtimeMs } from "../util/disk-usage.js";
import { KeyedLock } from "../util/keyed-lock.js";
import { normalizeCheckoutTimes } from "./checkout-times.js";
import { type GitRun, spawnGit } from "./git-process.js";
import { isCommitSha, parseLsRemote, type RemoteRefs } from "./git-refs.js";

export interface CheckoutOptions {
  /** Keep a `.git` directory (a shallow clone detached at the commit). */
  keepGitDir: boolean;
  /** History depth of the kept `.git`; 0 or less is the full history. */
  depth: number;
  signal?: AbortSignal;
  auth?: GitAuth | undefined;
  /** With keepGitDir: every tag of the remote in the kept `.git` too. */
  includeTags?: boolean;
  /** Fetch from here: the same repository reached another way (a service's address); `url` still names it. */
  fetchUrl?: string;
}

/** One cache entry as the collector sees it. */
export interface CacheEntryInfo {
  id: string;
  dir: string;
  lastUsed: number;
  inUse: boolean;
}

/** Credentials for a remote, as git on this machine uses them (the ops layer prepares them). */
export interface GitAuth {
  /** Value of the HTTP Authorization header (e.g. "Basic …", "Bearer …"). */
  authorization?: string;
  /** An ssh-agent socket on this machine. */
  sshAuthSock?: string;
  /** A known_hosts file; with it host keys are checked strictly. */
  knownHostsFile?: string;
}

/** The environment that hands `auth` to git: config through GIT_CONFIG_* (never on a command line), ssh options. */
export function gitAuthEnv(auth: GitAuth | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (auth?.authorization) {
    env["GIT_CONFIG_COUNT"] = "1";
    env["GIT_CONFIG_KEY_0"] = "http.extraHeader";
    env["GIT_CONFIG_VALUE_0"] = `Authorization: ${auth.authorization}`;
  }
  const ssh = ["ssh", "-o", "BatchMode=yes"];
  if (auth?.knownHostsFile) ssh.push("-o", `UserKnownHostsFile=${auth.knownHostsFile}`, "-o", "StrictHostKeyChecking=yes");
  else if (auth?.sshAuthSock) ssh.push("-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no");
  if (auth?.sshAuthSock) {
    env["SSH_AUTH_SOCK"] = auth.sshAuthSock;
    ssh.push("-o", "IdentitiesOnly=no");
  }
  env["GIT_SSH_COMMAND"] = ssh.join(" ");
  return env;
}

export class GitSource {
  readonly #locks = new KeyedLock();
  /** Checkouts running per cache repository. */
  readonly #users = new Map<string, number>();

  private constructor(private readonly root: string) {}

  /** Open the git state under `root`, dropping scratch files a crash left. */
  static async open(root: string): Promise<GitSource> {
    // HOME for git (home/): deliberately empty, so no user configuration applies.
    const fresh = (dir: string): Promise<unknown> =>
      fs.rm(path.join(root, dir), { recursive: true, force: true }).then(() => fs.mkdir(path.join(root, dir), { recursive: true }));
    await Promise.all([fs.mkdir(path.join(root, "repos"), { recursive: true }), fresh("tmp"), fresh("home")]);
    return new GitSource(root);
  }

  async listRefs(url: string, signal?: AbortSignal, auth?: GitAuth): Promise<RemoteRefs> {
    const r = await this.#git(["-c", "protocol.file.allow=never", "-c", "protocol.ext.allow=never", "ls-remote", "--symref", url], {
      ...(signal ? { signal } : {}),
      env: gitAuthEnv(auth),
    });
    if (r.code !== 0 && /could not read Username|Authentication failed|Permission denied \(publickey/i.test(r.stderr)) {
      const how = /publickey/.test(r.stderr) ? "sshAuthSocket" : "httpAuthToken/httpAuthUsername/httpAuthHeader";
      throw new UnavailableError(`authentication failed for git repository "${url}" (check ${how}): ${r.stderr.trim()}`);
    }
    if (r.code !== 0) throw new UnavailableError(`cannot list refs of git repository "${url}": ${r.stderr.trim() || `git exited with ${r.code}`}`);
    return parseLsRemote(r.stdout);
  }

  /** Write the tree of `commit` into `dest` (an empty directory). */
  async checkout(url: string, commit: string, dest: string, opts: CheckoutOptions): Promise<void> {
    if (!isCommitSha(commit)) throw new InvalidArgumentError(`invalid commit SHA "${commit}"`);
    const id = digestHex(sha256(url));
    // In use from here: the collector leaves the cache repository alone.
    this.#users.set(id, (this.#users.get(id) ?? 0) + 1);
    try {
      await this.#checkout(path.join(this.root, "repos", id), url, commit, dest, opts);
    } finally {
      const left = (this.#users.get(id) ?? 1) - 1;
      if (left > 0) this.#users.set(id, left);
      else this.#users.delete(id);
    }
  }

  /** Cache repositories (one per URL) with their size and last use, for the collector. */
  async cacheEntries(): Promise<CacheEntryInfo[]> {
    const repos = path.join(this.root, "repos");
    const entries = await listEntries(repos, mtimeMs);
    // `<id>.init-…` are repositories being made.
    return entries.filter((e) => !e.id.includes(".")).map((e) => ({ ...e, inUse: this.#users.has(e.id) }));
  }

  /** Remove a cache repository unless a checkout uses it; the next checkout fetches again. */
  async removeCacheEntry(id: string): Promise<boolean> {
    if (this.#users.has(id) || id.includes("/") || id.includes(".")) return false;
    const repo = path.join(this.root, "repos", id);
    const trash = path.join(this.root, "tmp", `gc-${id}-${randomBytes(4).toString("hex")}`);
    try {
      renameSync(repo, trash);
    } catch {
      return false;
    }
    await fs.rm(trash, { recursive: true, force: true });
    return true;
  }

  async #checkout(repo: string, url: string, commit: string, dest: string, opts: CheckoutOptions): Promise<void> {
    const signal = opts.signal ? { signal: opts.signal } : {};
    // One fetch per cache repository at a time: git locks shallow and refs.
    await this.#locked(repo, async () => {
      const from = opts.fetchUrl ?? url;
      await this.#fetch(repo, from, commit, opts);
      const now = new Date();
      await fs.utimes(repo, now, now);
      if (!opts.keepGitDir || !opts.includeTags) return;
      const args = ["-c", "protocol.file.allow=never", "-c", "protocol.ext.allow=never", "--git-dir", repo, "fetch", "-q", ...depthArgs(opts.depth)];
      const r = await this.#git([...args, from, "+refs/tags/*:refs/tags/*"], { ...signal, env: gitAuthEnv(opts.auth) });
      if (r.code !== 0) throw new UnavailableError(`cannot fetch the tags of git repository "${url}": ${r.stderr.trim() || `git exited with ${r.code}`}`);
    });
    if (opts.keepGitDir) {
      await this.#must(["init", "-q", "--template=", dest], signal);
      const local = ["-C", dest];
      await this.#must([...local, "-c", "protocol.file.allow=always", "fetch", "-q", "--no-tags", ...depthArgs(opts.depth), `file://${repo}`, commit], signal);
      if (opts.includeTags) {
        await this.#must(
          [...local, "-c", "protocol.file.allow=always", "fetch", "-q", ...depthArgs(opts.depth), `file://${repo}`, "+refs/tags/*:refs/tags/*"],
          signal,
        );
      }
      await this.#must([...local, "-c", "advice.detachedHead=false", "checkout", "-q", commit], signal);
      await this.#must([...local, "remote", "add", "origin", url], signal);
      // FETCH_HEAD names the engine's cache path: not part of the tree.
      await fs.rm(path.join(dest, ".git", "FETCH_HEAD"), { force: true });
      await normalizeCheckoutTimes(dest);
      return;
    }
    // A private index, so that checkouts from one cache repository can run at once.
    const index = path.join(this.root, "tmp", `index-${randomBytes(8).toString("hex")}`);
    try {
      const env = { GIT_INDEX_FILE: index };
      const tree = ["--git-dir", repo, "--work-tree", dest];
      await this.#must([...tree, "read-tree", commit], { ...signal, env });
      await this.#must([...tree, "checkout-index", "-a", "-f"], { ...signal, env });
    } finally {
      await fs.rm(index, { force: true });
    }
    await normalizeCheckoutTimes(dest);
  }

  async #fetch(repo: string, url: string, commit: string, opts: CheckoutOptions): Promise<void> {
    const signal = opts.signal ? { signal: opts.signal } : {};
    if (!(await exists(path.join(repo, "HEAD")))) {
      const tmp = `${repo}.init-${randomBytes(4).toString("hex")}`;
      await this.#must(["init", "-q", "--bare", "--template=", tmp], signal);
      await this.#must(["--git-dir", tmp, "config", "gc.auto", "0"], signal);
      await fs.rename(tmp, repo);
    }
    const have = (await this.#git(["--git-dir", repo, "cat-file", "-e", `${commit}^{commit}`], signal)).code === 0;
    if (have && (!opts.keepGitDir || opts.depth === 1)) return;
    // Fetched into a ref of its own, so the objects are never unreachable.
    const fetch = (shallow: boolean) => [
      "-c",
      "protocol.file.allow=never",
      "-c",
      "protocol.ext.allow=never",
      "--git-dir",
      repo,
      "fetch",
      "-q",
      "--no-tags",
      ...(shallow ? [`--depth=${opts.keepGitDir && opts.depth <= 0 ? FULL_HISTORY : opts.keepGitDir ? opts.depth : 1}`] : []),
      url,
      `+${commit}:refs/tanto/${commit}`,
    ];
    const env = { ...signal, env: gitAuthEnv(opts.auth) };
    let r = await this.#git(fetch(true), env);
    // A server that cannot serve a shallow fetch (dumb HTTP) gets a full one.
    if (r.code !== 0 && /shallow|dumb http/i.test(r.stderr)) r = await this.#git(fetch(false), env);
    if (r.code === 0) return;
    const msg = r.stderr.trim() || `git exited with ${r.code}`;
    if (/not our ref|couldn't find remote ref|no such remote ref|unadvertised object|not found/i.test(msg) && !/repository .* not found/i.test(msg)) {
      throw new NotFoundError(`git repository "${url}" has no commit "${commit}": ${msg}`);
    }
    throw new UnavailableError(`cannot fetch commit "${commit}" of git repository "${url}": ${msg}`);
  }

  /** The best common ancestor of two commits of `url` (their full histories are fetched first); undefined when none. */
  async mergeBase(
    url: string,
    a: string,
    b: string,
    opts: { signal?: AbortSignal; auth?: GitAuth | undefined; fetchUrl?: string | undefined } = {},
  ): Promise<string | undefined> {
    for (const c of [a, b]) if (!isCommitSha(c)) throw new InvalidArgumentError(`invalid commit SHA "${c}"`);
    const repo = path.join(this.root, "repos", digestHex(sha256(url)));
    const signal = opts.signal ? { signal: opts.signal } : {};
    return this.#locked(repo, async () => {
      await this.#fetch(repo, opts.fetchUrl ?? url, a, { keepGitDir: true, depth: 0, ...signal, auth: opts.auth });
      await this.#fetch(repo, opts.fetchUrl ?? url, b, { keepGitDir: true, depth: 0, ...signal, auth: opts.auth });
      const r = await this.#git(["--git-dir", repo, "merge-base", a, b], signal);
      if (r.code === 1) return undefined;
      if (r.code !== 0) throw new EngineError(`git merge-base ${a} ${b} failed: ${r.stderr.trim()}`);
      return r.stdout.trim();
    });
  }

  #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(key, fn);
  }

  async #must(args: string[], opts: { signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.#git(args, opts);
    if (r.code !== 0) throw new EngineError(`git ${args.join(" ")} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
    return r.stdout;
  }

  #git(args: string[], opts: { signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<GitRun> {
    const env = {
      PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: path.join(this.root, "home"),
      LANG: "C",
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
      ...opts.env,
    };
    return spawnGit(args, env, opts.signal ? { signal: opts.signal } : {});
  }
}

/** git's documented spelling of "unshallow, or already complete". */
const FULL_HISTORY = 2147483647;

function depthArgs(depth: number): string[] {
  return depth > 0 ? [`--depth=${depth}`] : [];
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
