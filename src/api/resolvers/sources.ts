/** git(url) and http(url): remote sources, resolved to commits and digests. */
import type { Socket } from "../../core/extra-values.js";
import { encodeId } from "../../core/ids.js";
import type { Secret } from "../../core/secrets.js";
import type { Service } from "../../core/service.js";
import {
  type GitRef,
  type GitRepository,
  gitCommit,
  gitRefNames,
  gitRepository,
  gitTree,
  httpFile,
  latestVersion,
  resolveGitRef,
  uncommitted,
} from "../../core/sources.js";
import type { RequestContext } from "../../core/types.js";
import type { GitAuthSpec } from "../../ops/git-auth.js";
import { loadObject } from "../objects.js";
import { type Args, bool, optInt, optStr, permissions, str, strList } from "./args.js";

/** Query.git's credentials: secrets and the client's agent socket named, never their values. */
function gitAuthArgs(a: Args): GitAuthSpec {
  const secret = (k: string) => {
    const id = optStr(a, k);
    if (id === undefined) return undefined;
    const { name, mac } = (loadObject(id, "Secret") as Secret).ref;
    return { name, mac };
  };
  const token = secret("httpAuthToken");
  const header = secret("httpAuthHeader");
  const username = optStr(a, "httpAuthUsername") || "x-access-token";
  const knownHosts = optStr(a, "sshKnownHosts");
  const sock = optStr(a, "sshAuthSocket");
  const socket = sock === undefined ? undefined : (loadObject(sock, "Socket") as unknown as Socket);
  return {
    ...(token ? { httpToken: { username, secret: token } } : {}),
    ...(header ? { httpHeader: header } : {}),
    ...(knownHosts ? { sshKnownHosts: knownHosts } : {}),
    ...(socket ? { sshAuthSocket: { client: socket.client, path: socket.path } } : {}),
  };
}

export const sourcesQueryResolvers = {
  git: (_: unknown, a: Args) => {
    const host = optStr(a, "experimentalServiceHost");
    return gitRepository(
      str(a, "url"),
      typeof a["keepGitDir"] === "boolean" ? a["keepGitDir"] : undefined,
      gitAuthArgs(a),
      host === undefined ? undefined : (loadObject(host, "Service") as Service),
    );
  },
  http: (_: unknown, a: Args, ctx: RequestContext) => {
    const authHeader = optStr(a, "authHeader");
    const serviceHost = optStr(a, "experimentalServiceHost");
    return httpFile(ctx, str(a, "url"), {
      name: optStr(a, "name"),
      permissions: permissions(a, 0o600),
      checksum: optStr(a, "checksum"),
      authHeader: authHeader === undefined ? undefined : (loadObject(authHeader, "Secret") as Secret),
      serviceHost: serviceHost === undefined ? undefined : (loadObject(serviceHost, "Service") as Service),
    });
  },
};

export const gitRepositoryResolvers = {
  id: (r: GitRepository) => encodeId(r),
  url: (r: GitRepository) => (r.local ? null : r.url),
  uncommitted: (r: GitRepository, _a: Args, ctx: RequestContext) => uncommitted(ctx, r),
  branch: (r: GitRepository, a: Args, ctx: RequestContext) => resolveGitRef(ctx, r, { kind: "branch", name: str(a, "name") }),
  tag: (r: GitRepository, a: Args, ctx: RequestContext) => resolveGitRef(ctx, r, { kind: "tag", name: str(a, "name") }),
  ref: (r: GitRepository, a: Args, ctx: RequestContext) => resolveGitRef(ctx, r, { kind: "ref", name: str(a, "name") }),
  head: (r: GitRepository, _a: Args, ctx: RequestContext) => resolveGitRef(ctx, r, { kind: "head" }),
  commit: (r: GitRepository, a: Args) => gitCommit(r, str(a, "id")),
  latestVersion: (r: GitRepository, _a: Args, ctx: RequestContext) => latestVersion(ctx, r),
  branches: (r: GitRepository, a: Args, ctx: RequestContext) => gitRefNames(ctx, r, "branches", strList(a, "patterns")),
  tags: (r: GitRepository, a: Args, ctx: RequestContext) => gitRefNames(ctx, r, "tags", strList(a, "patterns")),
};

export const gitRefResolvers = {
  id: (g: GitRef) => encodeId(g),
  commit: (g: GitRef) => g.commit,
  ref: (g: GitRef) => g.ref,
  tree: (g: GitRef, a: Args) => gitTree(g, { discardGitDir: bool(a, "discardGitDir"), depth: optInt(a, "depth") ?? 1, includeTags: bool(a, "includeTags") }),
};
