/**
 * Git module refs as Dagger reads them (core/modules/moduleref): an optional
 * scheme (`https://`, `http://`, `ssh://`; tanto also takes `git://`), or the
 * scp-like `user@host:org/repo`, or none at all — `github.com/org/repo` —
 * then `[/subpath][@version]`. The version is what follows the first `@` of
 * the path (it may hold slashes: `@feature/x`).
 *
 * Where the repository ends (Go's `vcs.RepoRootForImportPath`): on hosts
 * whose layout is known (github.com, bitbucket.org …) after `host/org/repo`;
 * elsewhere after the first path element ending in `.git`. Go would ask any
 * other host over HTTPS (`?go-get=1`); with no such answer to rely on here,
 * tanto takes `host/org/repo` there too. A ref without a scheme is cloned
 * over HTTPS, an scp-like one over SSH as user `git` unless it names one.
 */
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";

export type GitScheme = "" | "https://" | "http://" | "ssh://" | "git://" | "scp";

export interface ParsedGitRef {
  scheme: GitScheme;
  /** The repository, as cloned: `https://host/org/repo`, `git@host:org/repo`, `ssh://git@host:22/org/repo`. */
  cloneUrl: string;
  /** The repository as the ref wrote it (no scheme added, the user as given): what asString starts with. */
  sourceRepo: string;
  /** The module's directory in the repository: "." for its root. */
  subdir: string;
  /** After `@`, "" when none. */
  version: string;
  /** `host[:port]/path` of the repository without scheme, user or `.git`: its web page is there. */
  repoRoot: string;
}

/** Hosts whose repositories are always `host/owner/name` (Go's vcsPaths). */
const KNOWN_HOSTS = new Set(["github.com", "bitbucket.org", "gitlab.com", "codeberg.org", "git.sr.ht", "hub.jazz.net"]);
const SCHEMES: readonly GitScheme[] = ["https://", "http://", "ssh://", "git://"];

export function parseGitRef(ref: string): ParsedGitRef {
  let scheme: GitScheme = SCHEMES.find((s) => ref.startsWith(s)) ?? "";
  let rest = scheme ? ref.slice(scheme.length) : ref;
  if (scheme === "" && rest.includes(":") && !rest.includes("//")) {
    const colon = rest.indexOf(":");
    // `host:port/…` without a scheme is a host and port, not scp-like (`user@host:path` or `host:path`).
    if (!/^\d+(\/|$)/.test(rest.slice(colon + 1)) || rest.slice(0, colon).includes("@")) {
      scheme = "scp";
      rest = `${rest.slice(0, colon)}/${rest.slice(colon + 1)}`;
    }
  }
  // [user@]host[:port]/path[@version]
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  let pathPart = slash < 0 ? "" : rest.slice(slash);
  const at = authority.lastIndexOf("@");
  const user = at >= 0 ? authority.slice(0, at) : "";
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const host = hostPort.replace(/:\d+$/, "");
  if (!host || !/^[A-Za-z0-9.[\]:-]+$/.test(hostPort)) throw new InvalidArgumentError(`git module ref ${JSON.stringify(ref)}: no host name`);
  let version = "";
  const v = pathPart.indexOf("@");
  if (v >= 0) {
    version = pathPart.slice(v + 1);
    pathPart = pathPart.slice(0, v);
    if (!version) throw new InvalidArgumentError(`git module ref ${JSON.stringify(ref)}: empty version after "@"`);
  }
  const parts = pathPart.split("/").filter(Boolean);
  let repoLen = parts.findIndex((p) => p.endsWith(".git")) + 1;
  if (repoLen === 0) repoLen = Math.min(parts.length, 2);
  if (KNOWN_HOSTS.has(host.toLowerCase()) && parts.length >= 2) repoLen = Math.min(repoLen, 2);
  if (repoLen === 0) throw new InvalidArgumentError(`git module ref ${JSON.stringify(ref)}: no repository path after the host`);
  const repoPath = parts.slice(0, repoLen).join("/");
  const subdir = path.posix.normalize(parts.slice(repoLen).join("/") || ".");
  if (subdir === ".." || subdir.startsWith("../")) throw new InvalidArgumentError(`git module source subpath points out of root: ${JSON.stringify(subdir)}`);

  const userAt = (u: string) => (u ? `${u}@` : "");
  let cloneUrl: string;
  let sourceRepo: string;
  if (scheme === "scp") {
    cloneUrl = `${userAt(user || "git")}${hostPort}:${repoPath}`;
    sourceRepo = `${userAt(user)}${hostPort}:${repoPath}`;
  } else {
    const cloneUser = user || (scheme === "ssh://" ? "git" : "");
    cloneUrl = `${scheme || "https://"}${userAt(cloneUser)}${hostPort}/${repoPath}`;
    sourceRepo = `${scheme}${userAt(user)}${hostPort}/${repoPath}`;
  }
  return { scheme, cloneUrl, sourceRepo, subdir, version, repoRoot: `${hostPort}/${repoPath.replace(/\.git$/, "")}` };
}

/** The ref of a module in a repository (Dagger's GitString): repository, subpath, version. */
export function gitRefString(sourceRepo: string, subdir: string, version: string): string {
  const sub = path.posix.normalize(subdir || ".");
  return `${sourceRepo}${sub === "." ? "" : `/${sub}`}${version ? `@${version}` : ""}`;
}
