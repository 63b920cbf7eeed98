/**
 * The git op: the tree of one commit of a remote repository, as a snapshot.
 * Refs were resolved to the commit before the vertex was built, so the cache
 * key names exactly what is checked out.
 */
import { FailedPreconditionError } from "../errors.js";
import { digestHex } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";
import { normalizeGitUrl } from "../sources/git-refs.js";
import type { GitSource } from "../sources/git-source.js";
import type { ServiceBinder } from "./exec-types.js";
import { type GitAuthSpec, withGitAuth } from "./git-auth.js";

export interface GitOp {
  kind: "git";
  [arg: string]: unknown;
  url: string;
  /** Full commit SHA. */
  commit: string;
  /** Present (true) when the tree keeps a `.git` directory; then `depth` matters too. */
  keepGitDir?: true;
  depth?: number;
  /** Present (true) when the kept `.git` holds every tag of the remote. */
  includeTags?: true;
  /**
   * Where the commit comes from, kept out of the cache key (the commit names
   * the content): credentials, and a service that must be up for the fetch
   * (experimentalServiceHost), whose hostname in the URL is reached at its address.
   */
  origin?: { auth?: GitAuthSpec; serviceHost?: unknown };
}

export class GitOpRunner implements OpRunner {
  readonly kind = "git";
  readonly cacheable = true;

  constructor(private readonly deps: { git: GitSource; snapshots: OverlaySnapshotter; runDir: string; services?: ServiceBinder }) {}

  async run(v: Vertex, _inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as GitOp;
    const { snapshots } = this.deps;
    // Ops come back in client-supplied IDs: the URL is checked again here.
    const url = normalizeGitUrl(op.url);
    // A layer of its own (no parent): written where it lies, no mount needed.
    const active = await snapshots.prepare(undefined);
    const host = op.origin?.serviceHost;
    const services = this.deps.services;
    if (host !== undefined && !services) throw new FailedPreconditionError("this engine cannot run services (experimentalServiceHost)");
    const bound = host === undefined ? undefined : await (ctx.outsideSlot ?? ((f) => f()))(() => services!.bind(host, ctx));
    try {
      await withGitAuth(op.origin?.auth, ctx, this.deps.runDir, (auth) =>
        this.deps.git.checkout(url, op.commit, active.upperDir, {
          keepGitDir: op.keepGitDir === true,
          depth: op.depth ?? 1,
          includeTags: op.includeTags === true,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(bound ? { fetchUrl: withHostAddress(url, bound) } : {}),
          auth,
        }),
      );
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    } finally {
      await bound?.release();
    }
    const committed = await snapshots.commit(active, `git/${digestHex(v.digest)}`);
    return { snapshot: committed.name, meta: {} };
  }
}

/** `url` with a service's hostname (as Service.endpoint names it) replaced by its address; other URLs as they are. */
export function withHostAddress(url: string, bound: { ip: string; hostname: string }): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // scp-like user@host:path: not a hostname we rewrite
  }
  if (u.hostname.toLowerCase() !== bound.hostname.toLowerCase()) return url;
  u.hostname = bound.ip;
  return u.toString();
}
