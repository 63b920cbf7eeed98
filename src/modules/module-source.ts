/**
 * Locating a module source (core/modulerefs.go, core/schema/modulesource.go):
 * a local path on the caller's machine (found up to dagger.json, with the
 * git root as context) or a git ref (`host/org/repo[/subdir][@version]`, git-ref.ts).
 * The engine never reads the client's disk: listings and files come through
 * the session (host.statTree, host.directory).
 */
import * as path from "node:path";
import { readFileAt } from "../core/evaluate.js";
import { hostDirectory, hostFile } from "../core/host.js";
import { type GitRef, gitRepository, gitTree, resolveGitRef } from "../core/sources.js";
import type { RequestContext } from "../core/types.js";
import { Directory } from "../core/values.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { digestOf } from "../oci/digest.js";
import { type ModuleConfig, parseModuleConfig } from "./config.js";
import { gitRefString, parseGitRef } from "./git-ref.js";
import { refOf, type SourceData, type SourceKind } from "./values.js";

export interface SourceOptions {
  refPin?: string;
  disableFindUp?: boolean;
  allowNotExists?: boolean;
  requireKind?: SourceKind;
}

/** The kind a ref names (core/modulerefs.go). */
export function refKind(ref: string, pin: string | undefined): SourceKind {
  if (pin) return "GIT_SOURCE";
  if (ref.startsWith("/") || ref.startsWith(".")) return "LOCAL_SOURCE";
  if (/^(https?|ssh|git):\/\//.test(ref) || /^git@/.test(ref)) return "GIT_SOURCE";
  if (!ref.split("/")[0]!.includes(".")) return "LOCAL_SOURCE";
  return "GIT_SOURCE";
}

export async function resolveSource(ctx: RequestContext, ref: string, opts: SourceOptions = {}): Promise<SourceData> {
  let kind = refKind(ref, opts.refPin);
  // A path that exists on the caller's machine is local even if it looks like a host name.
  if (kind === "GIT_SOURCE" && !opts.refPin && !/^[a-z]+:\/\//.test(ref) && (await listTop(ctx, ref))) kind = "LOCAL_SOURCE";
  if (opts.requireKind && opts.requireKind !== kind)
    throw new InvalidArgumentError(`module source ${JSON.stringify(ref)} is a ${kind}, not a ${opts.requireKind}`);
  return kind === "LOCAL_SOURCE" ? resolveLocal(ctx, ref, opts) : resolveGit(ctx, ref, opts.refPin ?? "");
}

interface Top {
  /** Absolute client path. */
  root: string;
  daggerJson: boolean;
  git: boolean;
}

/** What a client directory holds at its top (dagger.json, .git); undefined when it does not exist. */
async function listTop(ctx: RequestContext, rel: string): Promise<Top | undefined> {
  try {
    const r = await ctx.session.host.statTree({ path: rel, include: ["dagger.json", ".git"], exclude: ["*/*"], gitignore: false, depth: 1 }, ctx.signal);
    if (r.kind !== "dir") return undefined;
    return { root: r.root, daggerJson: r.entries.some((e) => e.path === "dagger.json" && e.type === "file"), git: r.entries.some((e) => e.path === ".git") };
  } catch (err) {
    // Missing, or outside the client's working directory (which the client refuses to list), or an
    // entry vanished while listing (find-up from an absolute path reaches / and its /proc).
    if (err instanceof NotFoundError || /not found|outside the session|ENOENT/.test(String((err as Error).message))) return undefined;
    throw err;
  }
}

/** `rel` and its parents, up to the client's working directory ("."). */
function parentsOf(rel: string): string[] {
  const out: string[] = [];
  let p = path.posix.normalize(rel);
  for (;;) {
    out.push(p);
    if (p === "." || p === "/" || p === "") return out;
    p = path.posix.dirname(p);
  }
}

/** A client path that climbs above the working directory (`../dep`) made absolute: the client lists relative paths only below it. */
async function clientPath(ctx: RequestContext, rel: string): Promise<string> {
  const n = path.posix.normalize(rel);
  if (n !== ".." && !n.startsWith("../")) return n;
  const wd = await listTop(ctx, ".");
  return wd ? path.posix.join(wd.root, n) : n;
}

async function resolveLocal(ctx: RequestContext, refString: string, opts: SourceOptions, chain: string[] = []): Promise<SourceData> {
  const ref = await clientPath(ctx, refString);
  const start = await listTop(ctx, ref);
  if (!start && !opts.allowNotExists) throw new NotFoundError(`module source ${JSON.stringify(refString)} does not exist on the client`);
  let rootRel = path.posix.normalize(ref);
  let top = start;
  if (!opts.disableFindUp && start && !start.daggerJson) {
    for (const p of parentsOf(ref).slice(1)) {
      const t = await listTop(ctx, p);
      if (t?.daggerJson) {
        rootRel = p;
        top = t;
        break;
      }
    }
  }
  // Where the source root is on the client, also when it does not exist yet (init).
  let rootAbs = top?.root;
  let searchFrom = parentsOf(rootRel);
  if (!rootAbs) {
    for (const [i, p] of searchFrom.entries()) {
      const t = await listTop(ctx, p);
      if (t) {
        rootAbs = path.posix.join(t.root, path.posix.relative(p, rootRel));
        searchFrom = searchFrom.slice(i);
        break;
      }
    }
  }
  // The context: the nearest git root at or above the source root, else the source root.
  let contextRel = rootRel;
  let contextTop = top;
  if (!top?.git) {
    for (const p of searchFrom.slice(top ? 1 : 0)) {
      const t = await listTop(ctx, p);
      if (t?.git) {
        contextRel = p;
        contextTop = t;
        break;
      }
    }
  }
  if (rootAbs && chain.includes(rootAbs)) {
    throw new InvalidArgumentError(`module dependency cycle: ${[...chain.slice(chain.indexOf(rootAbs)), rootAbs].join(" -> ")}`);
  }
  const configExists = top?.daggerJson ?? false;
  let config: ModuleConfig = { name: "", engineVersion: "" };
  if (configExists) {
    const file = await hostFile(ctx, path.posix.join(rootRel, "dagger.json"), true);
    config = parseModuleConfig((await readFileAt(ctx, file.source, file.path)).toString("utf8"), `${path.posix.join(rootRel, "dagger.json")}`);
  }
  const contextAbs = contextTop?.root ?? rootAbs;
  const rootSubpath = (contextAbs && rootAbs ? path.posix.relative(contextAbs, rootAbs) : "") || ".";
  const source: SourceData = {
    kind: "LOCAL_SOURCE",
    refString,
    context: refOf(new Directory(undefined, "/")),
    rootSubpath,
    configExists,
    config,
    ...(contextAbs ? { localContextPath: contextAbs } : {}),
    dependencies: [],
    digest: "",
  };
  if (contextTop) source.context = refOf(await loadLocalContext(ctx, contextRel, source));
  source.dependencies = await resolveDependencies(ctx, source, rootRel, rootAbs ? [...chain, rootAbs] : chain);
  return withDigest(source);
}

/** The module's files of the client context directory: dagger.json, the code directory, the includes. */
export async function loadLocalContext(ctx: RequestContext, contextRel: string, s: SourceData): Promise<Directory> {
  const root = s.rootSubpath === "." ? "" : `${s.rootSubpath}/`;
  const sub = sourceSubpath(s);
  const include = [
    `${root}dagger.json`,
    sub === "." ? "**" : `${sub}/**`,
    ...(s.config.include ?? []).map((p) => (p.startsWith("!") ? `!${root}${p.slice(1)}` : `${root}${p}`)),
  ];
  return hostDirectory(ctx, contextRel, { include, exclude: [], gitignore: true, noCache: true });
}

/** The code directory relative to the context: dagger.json's `source` under the source root. */
export function sourceSubpath(s: SourceData): string {
  return path.posix.normalize(path.posix.join(s.rootSubpath, s.config.source ?? "."));
}

async function resolveDependencies(ctx: RequestContext, s: SourceData, rootRel: string, chain: string[]): Promise<SourceData[]> {
  const out: SourceData[] = [];
  for (const dep of s.config.dependencies ?? []) {
    const local = refKind(dep.source, dep.pin) === "LOCAL_SOURCE";
    const d = local
      ? await resolveLocal(ctx, path.posix.join(rootRel, dep.source), { disableFindUp: true }, chain)
      : await resolveGit(ctx, dep.source, dep.pin ?? "");
    out.push(dep.name && d.config.name !== dep.name ? withDigest({ ...d, originalName: d.config.name, config: { ...d.config, name: dep.name } }) : d);
  }
  return out;
}

async function resolveGit(ctx: RequestContext, ref: string, pin: string): Promise<SourceData> {
  const parsed = parseGitRef(ref);
  const { cloneUrl: url, subdir, version } = parsed;
  const repo = gitRepository(url, false);
  let gitRef: GitRef;
  if (pin) gitRef = await resolveGitRef(ctx, repo, { kind: "ref", name: pin });
  else if (/^v?\d+\.\d+\.\d+/.test(version)) {
    gitRef = await resolveGitRef(ctx, repo, { kind: "tag", name: subdir === "." ? version : `${subdir}/${version}` }).catch(() =>
      resolveGitRef(ctx, repo, { kind: "tag", name: version }),
    );
  } else if (version) gitRef = await resolveGitRef(ctx, repo, { kind: "ref", name: version });
  else gitRef = await resolveGitRef(ctx, repo, { kind: "head" });
  const tree = gitTree(gitRef, { discardGitDir: true, depth: 1 });
  // dagger.json found up from the subdir, inside the repository.
  let rootSubpath = "";
  let text: Buffer | undefined;
  for (const p of parentsOf(subdir)) {
    text = await readFileAt(ctx, tree.source, path.posix.join("/", p, "dagger.json")).catch(() => undefined);
    if (text) {
      rootSubpath = p;
      break;
    }
  }
  if (!text) throw new NotFoundError(`no dagger.json in git module ${JSON.stringify(ref)} (looked in ${subdir} and its parents)`);
  const config = parseModuleConfig(text.toString("utf8"), `${ref}: dagger.json`);
  const source: SourceData = {
    kind: "GIT_SOURCE",
    refString: gitRefString(parsed.sourceRepo, rootSubpath, version),
    context: refOf(tree),
    rootSubpath,
    configExists: true,
    config,
    git: { url, version: version || gitRef.ref, commit: gitRef.commit, htmlRepoUrl: `${parsed.scheme === "http://" ? "http" : "https"}://${parsed.repoRoot}` },
    dependencies: [],
    digest: "",
  };
  const deps: SourceData[] = [];
  for (const dep of config.dependencies ?? []) {
    const local = refKind(dep.source, dep.pin) === "LOCAL_SOURCE";
    if (local) {
      const sub = path.posix.normalize(path.posix.join(rootSubpath, dep.source));
      deps.push(await resolveGit(ctx, gitRefString(parsed.sourceRepo, sub, ""), gitRef.commit));
    } else deps.push(await resolveGit(ctx, dep.source, dep.pin ?? ""));
  }
  source.dependencies = deps;
  return withDigest(source);
}

/** A digest of what the source is: its context recipe, location and configuration. */
export function withDigest(s: SourceData): SourceData {
  const { digest: _d, ...rest } = s;
  return { ...s, digest: digestOf({ ...rest, context: { source: rest.context.source?.digest ?? null, path: rest.context.path } }) };
}

/** Where a source is (client path or git URL + subpath): what a dependency cycle repeats. */
export function sourceLocation(s: SourceData): string {
  if (s.git) return `${s.git.url}/${s.rootSubpath}`;
  return s.localContextPath ? path.posix.join(s.localContextPath, s.rootSubpath) : s.refString;
}

/** Refuses dependencies that lead back to the module itself (a cycle). */
export function checkNoCycle(parent: SourceData, deps: SourceData[]): void {
  const self = sourceLocation(parent);
  const walk = (d: SourceData, trail: string[]): void => {
    const at = [...trail, sourceLocation(d)];
    if (sourceLocation(d) === self) throw new InvalidArgumentError(`module dependency cycle: ${[self, ...at].join(" -> ")}`);
    for (const sub of d.dependencies) walk(sub, at);
  };
  for (const d of deps) walk(d, []);
}
