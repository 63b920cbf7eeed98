/**
 * Git remotes and refs without running git: which URLs are remote
 * repositories, what `git ls-remote --symref` says a remote has, and how a
 * branch, tag, ref name, HEAD or the latest version tag resolves against it
 * (git's own order for an ambiguous name, Go's semver order for tags). The
 * git source (git-source.ts) asks the remote; callers resolve with these.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { globToRegExp } from "../fsutil/glob.js";

/** What a remote advertises: full ref name → commit (annotated tags peeled). */
export interface RemoteRefs {
  readonly refs: ReadonlyMap<string, string>;
  /** The ref HEAD points at (`refs/heads/main`), when the remote says. */
  readonly head: string | undefined;
}

export type RefQuery = { kind: "branch" | "tag" | "ref"; name: string } | { kind: "head" };

const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function isCommitSha(s: string): boolean {
  return SHA_RE.test(s);
}

/**
 * A remote URL as git will be given it. Accepts http(s)://, git://, ssh://
 * and scp-like `user@host:path`; a bare `host/owner/repo` means https.
 */
export function normalizeGitUrl(url: string): string {
  const u = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(u)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!["http", "https", "git", "ssh"].includes(scheme)) {
      throw new InvalidArgumentError(`git URL "${url}": transport "${scheme}" is not supported (use https, ssh or git)`);
    }
    return u;
  }
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]/.test(u)) return u;
  if (/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?\/\S+$/.test(u)) return `https://${u}`;
  throw new InvalidArgumentError(`git URL "${url}" is not a remote repository URL (https://, ssh://, git:// or user@host:path)`);
}

/** Parse `git ls-remote --symref` output. */
export function parseLsRemote(out: string): RemoteRefs {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  let head: string | undefined;
  for (const line of out.split("\n")) {
    const [left, name] = line.split("\t");
    if (!left || !name) continue;
    if (left.startsWith("ref: ")) {
      if (name === "HEAD") head = left.slice("ref: ".length);
      continue;
    }
    if (name.endsWith("^{}")) peeled.set(name.slice(0, -3), left);
    else refs.set(name, left);
  }
  for (const [name, commit] of peeled) refs.set(name, commit);
  return { refs, head };
}

/** The refs of one kind (`refs/heads/`, `refs/tags/`) matching any pattern, by short name. */
export function listRefNames(refs: RemoteRefs, prefix: "refs/heads/" | "refs/tags/", patterns: readonly string[]): string[] {
  const res = patterns.map(globToRegExp);
  const names: string[] = [];
  for (const full of refs.refs.keys()) {
    if (!full.startsWith(prefix)) continue;
    // Like ls-remote's patterns: a pattern matches the ref's trailing components.
    const parts = full.split("/");
    const tails = parts.map((_, i) => parts.slice(i).join("/"));
    if (res.length === 0 || res.some((re) => tails.some((t) => re.test(t)))) names.push(full.slice(prefix.length));
  }
  return names.sort();
}

/** Resolve a branch, tag, ref name or HEAD against what the remote advertised. */
export function lookupRef(remote: RemoteRefs, url: string, q: RefQuery, label = `git repository "${url}"`): { ref: string; commit: string } {
  if (q.kind === "head") {
    const commit = remote.refs.get("HEAD");
    if (!commit) throw new NotFoundError(`${label} has no HEAD`);
    return { ref: "HEAD", commit };
  }
  const bare = q.name.replace(/^refs\/(heads|tags)\//, "");
  const candidates =
    q.kind === "branch"
      ? [`refs/heads/${bare}`]
      : q.kind === "tag"
        ? [`refs/tags/${bare}`]
        : // git rev-parse's order for an ambiguous name.
          [q.name, `refs/${q.name}`, `refs/tags/${q.name}`, `refs/heads/${q.name}`];
  for (const ref of candidates) {
    const commit = remote.refs.get(ref);
    if (commit) return { ref, commit };
  }
  const what = q.kind === "ref" ? "ref" : q.kind;
  throw new NotFoundError(`${label} has no ${what} "${q.kind === "ref" ? q.name : bare}"`);
}

/** The newest `vMAJOR[.MINOR[.PATCH]][-pre]` tag, as Go's semver orders them. */
export function latestVersionTag(remote: RemoteRefs): string | undefined {
  const parse = (t: string): { nums: number[]; pre: string[] } | undefined => {
    const m = /^v(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(t);
    if (!m) return undefined;
    if ((m[2] === undefined || m[3] === undefined) && (m[4] !== undefined || /\+/.test(t))) return undefined;
    return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre: m[4] ? m[4].split(".") : [] };
  };
  const cmpPre = (a: string[], b: string[]): number => {
    if (a.length === 0 || b.length === 0) return b.length - a.length; // a release outranks its prereleases
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const x = a[i]!,
        y = b[i]!;
      const xn = /^\d+$/.test(x),
        yn = /^\d+$/.test(y);
      if (xn && yn && Number(x) !== Number(y)) return Number(x) - Number(y);
      if (xn !== yn) return xn ? -1 : 1;
      if (x !== y) return x < y ? -1 : 1;
    }
    return a.length - b.length;
  };
  let best: { tag: string; v: { nums: number[]; pre: string[] } } | undefined;
  for (const tag of listRefNames(remote, "refs/tags/", [])) {
    const v = parse(tag);
    if (!v) continue;
    const c = best ? (v.nums.map((n, i) => n - best!.v.nums[i]!).find((d) => d !== 0) ?? cmpPre(v.pre, best.v.pre)) : 1;
    if (c > 0) best = { tag, v };
  }
  return best?.tag;
}
