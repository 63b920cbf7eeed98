/**
 * Patches and changesets with Debian's git: `withPatch` applies a git-style
 * unified diff with `git apply` on a scratch copy of the files it touches,
 * and records the result as file changes; a Changeset compares two
 * directories (paths walked here, patches and line counts by `git diff`).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { packDirectory } from "../archive/write-layer.js";
import { InvalidArgumentError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { withView } from "./evaluate.js";
import { type Changeset, DiffStat } from "./extra-values.js";
import { type Change, changeFs, joinPath } from "./filesystem.js";
import type { RequestContext } from "./types.js";
import { Directory, File } from "./values.js";

const run = promisify(execFile);
const GIT_ENV = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" };

async function git(args: string[], cwd: string, okCodes: number[] = [0]): Promise<string> {
  try {
    return (await run("git", args, { cwd, env: { ...GIT_ENV, HOME: cwd }, maxBuffer: 256 << 20 })).stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code === "number" && okCodes.includes(e.code)) return e.stdout ?? "";
    throw Object.assign(new Error(String(e.stderr ?? "").trim() || String(err)), { stderr: e.stderr });
  }
}

async function withScratch<T>(ctx: RequestContext, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = path.join(ctx.deps.runDir, `patch-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(dir, { recursive: true });
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Paths a patch touches (old and new names), from `git apply --numstat -z`. */
function touchedPaths(numstat: string): string[] {
  const fields = numstat.split("\0");
  const out: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f === "") continue;
    const [, , name] = f.split("\t");
    if (name === "" || name === undefined) {
      out.push(fields[i + 1]!, fields[i + 2]!);
      i += 2;
    } else out.push(name);
  }
  return out;
}

/** `d` with a git-style unified diff applied (paths relative to `d`, with a/ b/ prefixes). */
export async function applyPatch(ctx: RequestContext, d: Directory, patch: string): Promise<Directory> {
  if (patch.trim() === "") return d;
  const changes = await withScratch(ctx, async (scratch) => {
    const patchFile = path.join(scratch, "patch.diff");
    const work = path.join(scratch, "work");
    await fs.mkdir(work);
    await fs.writeFile(patchFile, patch.endsWith("\n") ? patch : patch + "\n");
    let touched: string[];
    try {
      touched = touchedPaths(await git(["apply", "--numstat", "-z", patchFile], work));
    } catch (err) {
      throw new InvalidArgumentError(`withPatch: patch is not a valid git-style diff: ${(err as Error).message}`);
    }
    if (touched.length === 0) throw new InvalidArgumentError("withPatch: patch changes no file");
    for (const p of touched) {
      if (p.startsWith("/") || p.split("/").includes(".."))
        throw new InvalidArgumentError(`withPatch: patch names a path outside the directory: ${JSON.stringify(p)}`);
    }
    await withView(ctx, d.source, async (root) => {
      const base = await resolveInRoot(root, d.path, { followLast: true });
      for (const p of touched) {
        const src = await resolveInRoot(base, p, { followLast: false });
        const st = await fs.lstat(src).catch(() => undefined);
        if (!st?.isFile()) continue;
        await fs.mkdir(path.dirname(path.join(work, p)), { recursive: true });
        await fs.copyFile(src, path.join(work, p));
        await fs.chmod(path.join(work, p), st.mode & 0o7777);
      }
    });
    try {
      await git(["apply", "--whitespace=nowarn", patchFile], work);
    } catch (err) {
      throw new InvalidArgumentError(`withPatch: patch does not apply: ${(err as Error).message}`);
    }
    const out: Change[] = [];
    for (const p of touched) {
      const target = joinPath(d.path, p);
      const st = await fs.lstat(path.join(work, p)).catch(() => undefined);
      if (st?.isFile()) out.push({ action: "mkfile", path: target, contents: await fs.readFile(path.join(work, p), "utf8"), permissions: st.mode & 0o7777 });
      else out.push({ action: "rm", path: target, allowNotFound: true });
    }
    return out;
  });
  return new Directory(changeFs(d.source, changes, "withPatch"), d.path);
}

interface Entry {
  type: "dir" | "file" | "link" | "other";
  mode: number;
}

async function walkTree(base: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of await fs.readdir(path.join(base, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      const st = await fs.lstat(path.join(base, p));
      const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "link" : "other";
      out.set(p, { type, mode: st.mode & 0o7777 });
      if (type === "dir") await walk(p);
    }
  };
  await walk("");
  return out;
}

export interface ChangedPaths {
  added: string[];
  modified: string[];
  removed: string[];
}

async function sameContent(a: string, b: string, type: Entry["type"]): Promise<boolean> {
  if (type === "link") return (await fs.readlink(a)) === (await fs.readlink(b));
  if (type !== "file") return true;
  const [x, y] = await Promise.all([fs.readFile(a), fs.readFile(b)]);
  return x.equals(y);
}

/** Run `fn` with the two trees of a changeset mounted read-only (the directories themselves). */
function withBoth<T>(ctx: RequestContext, cs: Changeset, fn: (before: string, after: string) => Promise<T>): Promise<T> {
  return withView(ctx, cs.before.source, async (r1) => {
    const before = await resolveInRoot(r1, cs.before.path, { followLast: true });
    return withView(ctx, cs.after.source, async (r2) => fn(before, await resolveInRoot(r2, cs.after.path, { followLast: true })));
  });
}

/** Added, modified and removed paths (directories end with "/"; a removed directory's children are not listed). */
export function changedPaths(ctx: RequestContext, cs: Changeset): Promise<ChangedPaths> {
  return withBoth(ctx, cs, async (before, after) => {
    const [b, a] = await Promise.all([walkTree(before), walkTree(after)]);
    const show = (p: string, e: Entry) => (e.type === "dir" ? `${p}/` : p);
    const added: string[] = [];
    const modified: string[] = [];
    const removed: string[] = [];
    for (const [p, e] of a) {
      const old = b.get(p);
      if (!old) added.push(show(p, e));
      else if (old.type !== e.type) {
        removed.push(show(p, old));
        added.push(show(p, e));
      } else if (e.type !== "dir" && (old.mode !== e.mode || !(await sameContent(path.join(before, p), path.join(after, p), e.type)))) modified.push(p);
    }
    const removedDirs: string[] = [];
    for (const [p, e] of [...b].sort((x, y) => x[0].localeCompare(y[0]))) {
      if (a.has(p)) continue; // still there (a change of type is listed above)
      if (removedDirs.some((d) => p.startsWith(`${d}/`))) continue;
      if (e.type === "dir") removedDirs.push(p);
      removed.push(show(p, e));
    }
    return { added: added.sort(), modified: modified.sort(), removed: removed.sort() };
  });
}

/** `git diff` between the two trees, run with them linked as a/ and b/. */
function gitDiff(ctx: RequestContext, cs: Changeset, args: string[]): Promise<string> {
  return withBoth(ctx, cs, (before, after) =>
    withScratch(ctx, async (scratch) => {
      await fs.symlink(before, path.join(scratch, "a"));
      await fs.symlink(after, path.join(scratch, "b"));
      return git(["diff", "--no-index", "--no-renames", "--src-prefix=", "--dst-prefix=", ...args, "a/", "b/"], scratch, [0, 1]);
    }),
  );
}

/** The changes as a git-style patch (a/ and b/ prefixes), as a File named "changes.patch". */
export async function changesetPatch(ctx: RequestContext, cs: Changeset): Promise<File> {
  const raw = await gitDiff(ctx, cs, ["--binary"]);
  // With empty prefixes git names both sides after the existing one in the header of added/removed files.
  const text = raw.replace(/^diff --git [ab]\/(.*) [ab]\/(.*)$/gm, "diff --git a/$1 b/$2");
  return new File(changeFs(undefined, [{ action: "mkfile", path: "/changes.patch", contents: text, permissions: 0o644 }], "asPatch"), "/changes.patch");
}

export async function diffStats(ctx: RequestContext, cs: Changeset): Promise<DiffStat[]> {
  const numstat = await gitDiff(ctx, cs, ["--numstat", "-z"]);
  const changed = await changedPaths(ctx, cs);
  const added = new Set(changed.added);
  const removed = new Set(changed.removed);
  const out: DiffStat[] = [];
  const fields = numstat.split("\0");
  for (let i = 0; i < fields.length; i++) {
    if (!fields[i]) continue;
    const [plus, minus, inline] = fields[i]!.split("\t");
    // Without prefixes the two sides differ in name (a/x, b/x), so git writes both: "+\t-\t\0old\0new".
    let name = inline;
    if (!name) {
      const [older, newer] = [fields[i + 1]!, fields[i + 2]!];
      name = newer === "/dev/null" ? older : newer;
      i += 2;
    }
    const rel = name.replace(/^[ab]\//, "");
    const gone = removed.has(rel) || [...removed].some((r) => r.endsWith("/") && rel.startsWith(r));
    const kind = added.has(rel) ? "ADDED" : gone ? "REMOVED" : "MODIFIED";
    out.push(new DiffStat(rel, kind, Number(plus) || 0, Number(minus) || 0, undefined));
  }
  return out.sort((x, y) => x.path.localeCompare(y.path));
}

/** Only what was added or modified: the upper tree's difference from the lower. */
export function changesetLayer(cs: Changeset): Directory {
  return new Directory(changeFs(undefined, [{ action: "diff", lower: cs.before, upper: cs.after, dest: "/" }], "layer"), "/");
}

/** `d` with a changeset's additions, modifications and removals applied. */
export async function withChanges(ctx: RequestContext, d: Directory, cs: Changeset): Promise<Directory> {
  const { removed } = await changedPaths(ctx, cs);
  const changes: Change[] = [
    ...removed.map((p): Change => ({ action: "rm", path: joinPath(d.path, p.replace(/\/$/, "")), allowNotFound: true })),
    { action: "diff", lower: cs.before, upper: cs.after, dest: d.path },
  ];
  return new Directory(changeFs(d.source, changes, "withChanges"), d.path);
}

/** Apply the changeset to `dest` on the client: additions and modifications written, removals deleted. */
export async function exportChangeset(ctx: RequestContext, cs: Changeset, dest: string): Promise<string> {
  const { removed } = await changedPaths(ctx, cs);
  const layer = changesetLayer(cs);
  return withView(ctx, layer.source, (root) =>
    withScratch(ctx, async (scratch) => {
      const tree = path.join(scratch, "tree");
      await fs.cp(root, tree, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      // Overlay's whiteouts (character devices 0/0), which the packer writes as OCI whiteouts.
      for (const p of removed) {
        const at = path.join(tree, p.replace(/\/$/, ""));
        await fs.mkdir(path.dirname(at), { recursive: true });
        await run("mknod", [at, "c", "0", "0"]);
      }
      return ctx.session.host.write({ path: dest, kind: "dir", wipe: false, allowParentDirPath: false, deletions: true }, packDirectory(tree), ctx.signal);
    }),
  );
}
