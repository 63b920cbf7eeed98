/**
 * Local repositories: a directory holding a `.git` (Directory.asGit), read
 * and checked out with Debian's `git`, on this machine's view of the
 * directory's snapshot. Nothing is fetched from anywhere: the refs, commits
 * and worktree are the directory's own.
 *
 *   const refs = await listLocalRefs(dir);                  // like ls-remote
 *   await checkoutLocal(dir, commit, dest, { keepGitDir: true, depth: 1 });
 *   await cleanWorktree(dir, scratch);                      // worktree back to HEAD
 *
 * git runs with no user or system configuration and trusts the directory
 * whoever owns its files (`safe.directory=*`): the files came from the client
 * or a container, not from another user of this machine.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { EngineError, FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import { normalizeCheckoutTimes } from "./checkout-times.js";
import { type GitRun, spawnGit } from "./git-process.js";
import { isCommitSha, type RemoteRefs } from "./git-refs.js";

/** Run git with no configuration but the command line's, never prompting. */
export function runGit(args: readonly string[], opts: { cwd?: string; signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<GitRun> {
  const env = {
    PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: "/nonexistent",
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "tanto",
    GIT_AUTHOR_EMAIL: "tanto@localhost",
    GIT_COMMITTER_NAME: "tanto",
    GIT_COMMITTER_EMAIL: "tanto@localhost",
    ...opts.env,
  };
  const runOpts = { ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
  return spawnGit(["-c", "safe.directory=*", "-c", "gc.auto=0", "-c", "maintenance.auto=false", ...args], env, runOpts);
}

/** Run git and fail with its stderr unless it exits 0 (or one of `ok`). */
export async function mustGit(
  args: readonly string[],
  opts: { cwd?: string; signal?: AbortSignal; env?: Record<string, string>; ok?: number[] } = {},
): Promise<string> {
  const r = await runGit(args, opts);
  if (r.code !== 0 && !(opts.ok ?? []).includes(r.code)) {
    throw new EngineError(`git ${args.join(" ")} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
  }
  return r.stdout;
}

/** The `.git` directory of `dir`, which must hold one (a `.git` file pointing elsewhere cannot be followed). */
export async function gitDirOf(dir: string): Promise<string> {
  const gitDir = path.join(dir, ".git");
  const st = await fs.lstat(gitDir).catch(() => undefined);
  if (!st) throw new FailedPreconditionError("directory is not a git repository: it holds no .git");
  if (!st.isDirectory())
    throw new FailedPreconditionError("directory's .git is not a directory (a worktree or submodule pointer): its repository is not in the directory");
  return gitDir;
}

/** What the repository in `dir` has: its refs (annotated tags peeled), HEAD and the branch HEAD names. */
export async function listLocalRefs(dir: string, signal?: AbortSignal): Promise<RemoteRefs> {
  const gitDir = await gitDirOf(dir);
  const opts = signal ? { signal } : {};
  const listing = await mustGit(["--git-dir", gitDir, "for-each-ref", "--format=%(objectname) %(*objectname) %(refname)"], opts);
  const refs = new Map<string, string>();
  for (const line of listing.split("\n")) {
    const [object, peeled, name] = line.split(" ");
    if (object && name) refs.set(name, peeled || object);
  }
  const head = await runGit(["--git-dir", gitDir, "rev-parse", "--verify", "-q", "HEAD^{commit}"], opts);
  if (head.code === 0) refs.set("HEAD", head.stdout.trim());
  const sym = await runGit(["--git-dir", gitDir, "symbolic-ref", "-q", "HEAD"], opts);
  return { refs, head: sym.code === 0 ? sym.stdout.trim() : undefined };
}

/** The URL of the repository's `origin` remote, if it has one. */
async function originUrl(gitDir: string, signal?: AbortSignal): Promise<string | undefined> {
  const r = await runGit(["--git-dir", gitDir, "config", "--get", "remote.origin.url"], signal ? { signal } : {});
  return r.code === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : undefined;
}

/**
 * Write the tree of `commit` of the repository in `dir` into `dest` (an empty
 * directory). With keepGitDir, `dest` gets a `.git` of its own holding
 * `depth` commits of history (0: all), detached at the commit, with the
 * source's `origin` remote.
 */
export async function checkoutLocal(
  dir: string,
  commit: string,
  dest: string,
  opts: { keepGitDir: boolean; depth: number; scratch: string; signal?: AbortSignal },
): Promise<void> {
  if (!isCommitSha(commit)) throw new InvalidArgumentError(`invalid commit SHA "${commit}"`);
  const gitDir = await gitDirOf(dir);
  const signal = opts.signal ? { signal: opts.signal } : {};
  const has = await runGit(["--git-dir", gitDir, "cat-file", "-e", `${commit}^{commit}`], signal);
  if (has.code !== 0) throw new FailedPreconditionError(`the repository has no commit "${commit}"`);
  if (opts.keepGitDir) {
    await mustGit(["init", "-q", "--template=", dest], signal);
    const depth = opts.depth > 0 ? [`--depth=${opts.depth}`] : [];
    await mustGit(["-C", dest, "-c", "protocol.file.allow=always", "fetch", "-q", "--no-tags", ...depth, `file://${gitDir}`, commit], signal);
    await mustGit(["-C", dest, "-c", "advice.detachedHead=false", "checkout", "-q", commit], signal);
    const origin = await originUrl(gitDir, opts.signal);
    if (origin !== undefined) await mustGit(["-C", dest, "remote", "add", "origin", origin], signal);
    // FETCH_HEAD names this engine's view of the source: not part of the tree.
    await fs.rm(path.join(dest, ".git", "FETCH_HEAD"), { force: true });
    await normalizeCheckoutTimes(dest);
    return;
  }
  // A private index: the source repository is only read.
  const index = path.join(opts.scratch, `index-${randomBytes(8).toString("hex")}`);
  try {
    const env = { env: { GIT_INDEX_FILE: index }, ...signal };
    await mustGit(["--git-dir", gitDir, "--work-tree", dest, "read-tree", commit], env);
    await mustGit(["--git-dir", gitDir, "--work-tree", dest, "checkout-index", "-a", "-f"], env);
  } finally {
    await fs.rm(index, { force: true });
  }
  await normalizeCheckoutTimes(dest);
}

/**
 * Put the worktree of the repository in `dir` back to its HEAD commit:
 * tracked files restored, untracked ones (but not ignored ones) removed. The
 * repository's own index is left as it was (a copy is used), so `.git` does
 * not change.
 */
export async function cleanWorktree(dir: string, scratch: string, signal?: AbortSignal): Promise<void> {
  const gitDir = await gitDirOf(dir);
  const index = path.join(scratch, `index-${randomBytes(8).toString("hex")}`);
  try {
    await fs.copyFile(path.join(gitDir, "index"), index).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err; // no index yet: nothing staged
    });
    const opts = { cwd: dir, env: { GIT_INDEX_FILE: index, GIT_DIR: gitDir, GIT_WORK_TREE: dir }, ...(signal ? { signal } : {}) };
    const head = await runGit(["rev-parse", "--verify", "-q", "HEAD^{commit}"], opts);
    if (head.code !== 0) throw new FailedPreconditionError("the repository has no commit yet: HEAD names none");
    await mustGit(["read-tree", "HEAD"], opts);
    await mustGit(["checkout-index", "-a", "-f"], opts);
    // Files HEAD lacks (new, staged or not) are untracked now: gone, as are new directories.
    await mustGit(["clean", "-f", "-d", "-q"], opts);
  } finally {
    await fs.rm(index, { force: true });
  }
}

/** The best common ancestor of two commits of the repository in `dir`; undefined when none. */
export async function mergeBaseLocal(dir: string, a: string, b: string, signal?: AbortSignal): Promise<string | undefined> {
  const gitDir = await gitDirOf(dir);
  const r = await runGit(["--git-dir", gitDir, "merge-base", a, b], signal ? { signal } : {});
  if (r.code === 1) return undefined;
  if (r.code !== 0) throw new EngineError(`git merge-base ${a} ${b} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}
