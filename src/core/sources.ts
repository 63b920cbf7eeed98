/**
 * Remote sources as API values: `git(url)` → GitRepository → GitRef → tree,
 * and `http(url)` → File.
 *
 * A GitRef is resolved when it is made: its branch or tag becomes a commit
 * SHA (one `ls-remote` per URL per session, like `from()` pins a tag), so its
 * tree vertex `{kind: "git", url, commit}` is cached by commit. `http(url)`
 * downloads once per session; its File's vertex names the content digest,
 * not the URL.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { type Digest, isDigest } from "../oci/digest.js";
import { type GitAuthSpec, hasGitAuth, withGitAuth } from "../ops/git-auth.js";
import type { GitLocalOp } from "../ops/git-local-op.js";
import { type GitOp, withHostAddress } from "../ops/git-op.js";
import { type HttpFileOp, isPlainName } from "../ops/http-op.js";
import { vertex } from "../solver/vertex.js";
import { listLocalRefs, mergeBaseLocal } from "../sources/git-local.js";
import { isCommitSha, latestVersionTag, listRefNames, lookupRef, normalizeGitUrl, type RefQuery, type RemoteRefs } from "../sources/git-refs.js";
import { type Download, fileNameFromUrl } from "../sources/http-source.js";
import { withView } from "./evaluate.js";
import { Changeset } from "./extra-values.js";
import type { Secret } from "./secrets.js";
import type { Service } from "./service.js";
import { withBoundService } from "./service-run.js";
import type { RequestContext, Session } from "./types.js";
import { Directory, File } from "./values.js";

export class GitRepository {
  readonly typename = "GitRepository";
  constructor(
    /** The remote's URL; "" for a local repository. */
    readonly url: string,
    readonly discardGitDir: boolean,
    /** Credentials for the remote (secrets by HMAC); undefined: none. */
    readonly auth?: GitAuthSpec | undefined,
    /** A directory holding the repository's `.git` (Directory.asGit), instead of a remote. */
    readonly local?: Directory | undefined,
    /** A service that must be up to reach the remote (experimentalServiceHost). */
    readonly serviceHost?: Service | undefined,
  ) {}
  toJSON(): unknown {
    if (this.local) return { local: this.local.toJSON(), discardGitDir: this.discardGitDir };
    return {
      url: this.url,
      discardGitDir: this.discardGitDir,
      ...(hasGitAuth(this.auth) ? { auth: this.auth } : {}),
      ...(this.serviceHost ? { serviceHost: this.serviceHost.spec } : {}),
    };
  }
  /** How messages name the repository. */
  get label(): string {
    return this.local ? `local git repository (directory ${this.local.path})` : `git repository "${this.url}"`;
  }
}

export class GitRef {
  readonly typename = "GitRef";
  constructor(
    readonly repo: GitRepository,
    readonly ref: string,
    readonly commit: string,
  ) {}
  toJSON(): unknown {
    return { repo: this.repo.toJSON(), ref: this.ref, commit: this.commit };
  }
}

export function gitRepository(url: string, keepGitDir: boolean | undefined, auth?: GitAuthSpec, serviceHost?: Service): GitRepository {
  // Dagger keeps .git unless told otherwise; the deprecated keepGitDir=false discards it.
  return new GitRepository(normalizeGitUrl(url), keepGitDir === false, hasGitAuth(auth) ? auth : undefined, undefined, serviceHost);
}

/** Run `fn` with the URL git should use: the repository's own, or through its service host while that is up. */
function reachRemote<T>(ctx: RequestContext, repo: GitRepository, fn: (url: string | undefined) => Promise<T>): Promise<T> {
  const host = repo.serviceHost;
  return host ? withBoundService(ctx, host, (bound) => fn(withHostAddress(repo.url, bound))) : fn(undefined);
}

// Per session: ls-remote answers (by URL) and downloads (by URL and checksum).
// Weak, so they go with the session.
const remoteRefs = new WeakMap<Session, Map<string, Promise<RemoteRefs>>>();
const downloads = new WeakMap<Session, Map<string, Promise<Download>>>();

function memo<T>(table: WeakMap<Session, Map<string, Promise<T>>>, session: Session, key: string, make: () => Promise<T>): Promise<T> {
  let m = table.get(session);
  if (!m) table.set(session, (m = new Map()));
  const hit = m.get(key);
  if (hit) return hit;
  const p = make();
  m.set(key, p);
  // A failure is not remembered: asking again tries again.
  p.catch(() => {
    if (m.get(key) === p) m.delete(key);
  });
  return p;
}

/** Directory.asGit: the repository a directory holds (checked when first used). */
export function localGitRepository(d: Directory): GitRepository {
  return new GitRepository("", false, undefined, d);
}

export function listRemoteRefs(ctx: RequestContext, repo: GitRepository): Promise<RemoteRefs> {
  const local = repo.local;
  if (local) {
    return memo(remoteRefs, ctx.session, JSON.stringify(["local", local.toJSON()]), () =>
      withView(ctx, local.source, async (root) => listLocalRefs(await resolveInRoot(root, local.path, { followLast: true }), ctx.signal)),
    );
  }
  const key = hasGitAuth(repo.auth) || repo.serviceHost ? JSON.stringify([repo.url, repo.auth ?? null, repo.serviceHost?.digest ?? null]) : repo.url;
  return memo(remoteRefs, ctx.session, key, () =>
    withGitAuth(repo.auth, { session: ctx.session, secrets: ctx.session.secrets }, ctx.deps.runDir, (auth) =>
      reachRemote(ctx, repo, (via) => ctx.deps.git.listRefs(via ?? repo.url, ctx.session.signal, auth)),
    ),
  );
}

export async function resolveGitRef(ctx: RequestContext, repo: GitRepository, q: RefQuery): Promise<GitRef> {
  // A full SHA pins itself: nothing to ask the remote.
  if (q.kind === "ref" && isCommitSha(q.name)) return new GitRef(repo, q.name, q.name);
  const { ref, commit } = lookupRef(await listRemoteRefs(ctx, repo), repo.url, q, repo.label);
  return new GitRef(repo, ref, commit);
}

export function gitCommit(repo: GitRepository, id: string): GitRef {
  if (!isCommitSha(id)) throw new InvalidArgumentError(`invalid commit SHA "${id}": want the full 40 (or 64) hex digits`);
  return new GitRef(repo, id, id);
}

export async function latestVersion(ctx: RequestContext, repo: GitRepository): Promise<GitRef> {
  const tag = latestVersionTag(await listRemoteRefs(ctx, repo));
  if (tag === undefined) throw new InvalidArgumentError(`${repo.label} has no semver tags (vX.Y.Z)`);
  return resolveGitRef(ctx, repo, { kind: "tag", name: tag });
}

export async function gitRefNames(ctx: RequestContext, repo: GitRepository, kind: "branches" | "tags", patterns: readonly string[]): Promise<string[]> {
  return listRefNames(await listRemoteRefs(ctx, repo), kind === "branches" ? "refs/heads/" : "refs/tags/", patterns);
}

export function gitTree(ref: GitRef, opts: { discardGitDir: boolean; depth: number; includeTags?: boolean }): Directory {
  const keep = !(opts.discardGitDir || ref.repo.discardGitDir);
  const local = ref.repo.local;
  if (local) {
    // includeTags: the local repository's tags are its own; a checkout keeps the one commit's history only.
    const op: GitLocalOp = {
      kind: "git-local",
      mode: "checkout",
      path: local.path,
      commit: ref.commit,
      ...(keep ? { keepGitDir: true as const, depth: opts.depth } : {}),
    };
    return new Directory(vertex(op, local.source ? [local.source] : [], `git checkout ${ref.ref === ref.commit ? ref.commit.slice(0, 12) : ref.ref}`), "/");
  }
  const op: GitOp = {
    kind: "git",
    url: ref.repo.url,
    commit: ref.commit,
    ...(keep ? { keepGitDir: true as const, depth: opts.depth, ...(opts.includeTags ? { includeTags: true as const } : {}) } : {}),
    ...(hasGitAuth(ref.repo.auth) || ref.repo.serviceHost
      ? {
          origin: {
            ...(hasGitAuth(ref.repo.auth) ? { auth: ref.repo.auth } : {}),
            ...(ref.repo.serviceHost ? { serviceHost: ref.repo.serviceHost.spec } : {}),
          },
        }
      : {}),
  };
  return new Directory(
    vertex(op, [], `git ${ref.repo.url} ${ref.ref === ref.commit ? ref.commit.slice(0, 12) : `${ref.ref} (${ref.commit.slice(0, 12)})`}`),
    "/",
  );
}

export async function httpFile(
  ctx: RequestContext,
  url: string,
  opts: { name: string | undefined; permissions: number; checksum: string | undefined; authHeader: Secret | undefined; serviceHost?: Service | undefined },
): Promise<File> {
  const name = opts.name ?? fileNameFromUrl(url);
  if (!isPlainName(name)) throw new InvalidArgumentError(`invalid file name "${name}": want a single path component`);
  if (opts.checksum !== undefined && !isDigest(opts.checksum)) {
    throw new InvalidArgumentError(`invalid checksum "${opts.checksum}": want sha256:<64 hex digits>`);
  }
  const checksum = opts.checksum as Digest | undefined;
  const auth = opts.authHeader;
  const get = (from: string) =>
    ctx.deps.http.fetch(from, {
      ...(checksum !== undefined ? { checksum } : {}),
      ...(auth !== undefined ? { authorization: ctx.session.secrets.plaintext(auth.ref) } : {}),
      signal: ctx.session.signal,
    });
  const host = opts.serviceHost;
  const download = await memo(downloads, ctx.session, JSON.stringify([url, checksum ?? null, auth?.ref.mac ?? null]), () =>
    // experimentalServiceHost: the service is up for the download; its hostname (which only containers resolve) is its address here.
    host ? withBoundService(ctx, host, (bound) => get(withHostAddress(url, bound))) : get(url),
  );
  const op: HttpFileOp = {
    kind: "http-file",
    digest: download.digest,
    origin: { url, ...(auth ? { auth: { name: auth.ref.name, mac: auth.ref.mac } } : {}) },
    name,
    permissions: opts.permissions,
    mtime: download.mtime,
  };
  return new File(vertex(op, [], `http ${url}`), "/" + name);
}

/**
 * GitRepository.uncommitted: the worktree's changes against HEAD, untracked
 * files included (ignored ones not). A remote repository has no worktree: its
 * changeset is empty (HEAD's tree on both sides).
 */
export async function uncommitted(ctx: RequestContext, repo: GitRepository): Promise<Changeset> {
  const local = repo.local;
  if (!local) {
    const head = gitTree(await resolveGitRef(ctx, repo, { kind: "head" }), { discardGitDir: false, depth: 1 });
    return new Changeset(head, head);
  }
  const op: GitLocalOp = { kind: "git-local", mode: "cleaned", path: local.path };
  const cleaned = new Directory(vertex(op, local.source ? [local.source] : [], `git worktree at HEAD ${local.path}`), local.path);
  return new Changeset(cleaned, local);
}

/** The best common ancestor of two refs of one repository, as a ref pinned to its commit. */
export async function commonAncestor(ctx: RequestContext, a: GitRef, b: GitRef): Promise<GitRef> {
  if (JSON.stringify(a.repo.local ?? a.repo.url) !== JSON.stringify(b.repo.local ?? b.repo.url))
    throw new InvalidArgumentError(`commonAncestor: the refs are of different repositories (${a.repo.label}, ${b.repo.label})`);
  const local = a.repo.local;
  if (local) {
    const base = await withView(ctx, local.source, async (root) =>
      mergeBaseLocal(await resolveInRoot(root, local.path, { followLast: true }), a.commit, b.commit, ctx.signal),
    );
    if (base === undefined) throw new NotFoundError(`commits ${a.commit} and ${b.commit} of the ${a.repo.label} have no common ancestor`);
    return new GitRef(a.repo, base, base);
  }
  const base = await withGitAuth(a.repo.auth, { session: ctx.session, secrets: ctx.session.secrets }, ctx.deps.runDir, (auth) =>
    reachRemote(ctx, a.repo, (via) => ctx.deps.git.mergeBase(a.repo.url, a.commit, b.commit, { signal: ctx.signal, auth, fetchUrl: via })),
  );
  if (base === undefined) throw new NotFoundError(`commits ${a.commit} and ${b.commit} of "${a.repo.url}" have no common ancestor`);
  return new GitRef(a.repo, base, base);
}
