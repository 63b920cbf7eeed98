/**
 * Directory and File helpers beyond plain copies: filter (with .gitignore),
 * chown, findUp, text search and string replacement. Each either builds a
 * file-op recipe or reads a solved view of the tree.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { gitignorePatterns } from "../fsutil/gitignore.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { PathFilter } from "../fsutil/path-filter.js";
import { readFileAt, statAt, withView } from "./evaluate.js";
import { SearchResult, SearchSubmatch } from "./extra-values.js";
import { type Change, changeFs, joinPath } from "./filesystem.js";
import type { RequestContext } from "./types.js";
import { Directory, File } from "./values.js";

/** Exclude patterns from every .gitignore in the tree below `dir`. */
async function gitignoreExcludes(ctx: RequestContext, d: Directory): Promise<string[]> {
  return withView(ctx, d.source, async (root) => {
    const base = await resolveInRoot(root, d.path, { followLast: true });
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const text = await fs.readFile(path.join(base, rel, ".gitignore"), "utf8").catch(() => undefined);
      if (text !== undefined) out.push(...gitignorePatterns(text, rel));
      const filter = new PathFilter({ exclude: out });
      const entries = await fs.readdir(path.join(base, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory() && e.name !== ".git" && filter.mayDescend(p)) await walk(p);
      }
    };
    await walk("");
    return out;
  });
}

/** A copy of `d` keeping what `include` selects and `exclude` (and .gitignore files, when asked) do not. */
export async function filterDirectory(
  ctx: RequestContext,
  d: Directory,
  opts: { include: string[]; exclude: string[]; gitignore: boolean },
): Promise<Directory> {
  const exclude = [...opts.exclude, ...(opts.gitignore ? await gitignoreExcludes(ctx, d) : [])];
  const v = changeFs(
    undefined,
    [{ action: "copy", from: d, dest: "/", ...(opts.include.length ? { include: opts.include } : {}), ...(exclude.length ? { exclude } : {}) }],
    "filter",
  );
  return new Directory(v, "/");
}

/** `d` with the owner of `p` (and everything below it) changed. */
export async function chownInDirectory(ctx: RequestContext, d: Directory, p: string, owner: string): Promise<Directory> {
  if (owner === "") throw new InvalidArgumentError("chown: owner must not be empty");
  const target = joinPath(d.path, p);
  const st = await statAt(ctx, d.source, target, false);
  if (!st) throw new NotFoundError(`chown ${p}: no such file or directory`);
  const from = st.type === "DIRECTORY" ? new Directory(d.source, target) : new File(d.source, target);
  if (st.type !== "DIRECTORY") return new Directory(changeFs(d.source, [{ action: "copy", from, dest: target, owner }], `chown ${target}`), d.path);
  // A copy onto an existing directory keeps that directory's owner: recreate it owned, then copy the contents (read from the original).
  const changes: Change[] = [
    ...(target === "/" ? [] : [{ action: "rm", path: target, allowNotFound: false } as const]),
    { action: "mkdir", path: target, permissions: st.mode & 0o7777, owner },
    { action: "copy", from, dest: target, owner },
  ];
  return new Directory(changeFs(d.source, changes, `chown ${target}`), d.path);
}

export function chownFile(f: File, owner: string): File {
  if (owner === "") throw new InvalidArgumentError("chown: owner must not be empty");
  const dest = "/" + path.posix.basename(f.path);
  return new File(changeFs(undefined, [{ action: "copy", from: f, dest, owner }], `chown ${dest}`), dest);
}

/** The path (relative to `d`) of the nearest `name` in `start` or a parent of it, up to `d` itself; null when none. */
export async function findUp(ctx: RequestContext, d: Directory, name: string, start: string): Promise<string | null> {
  if (name === "" || name.includes("/")) throw new InvalidArgumentError(`findUp: name must be a plain file name, got ${JSON.stringify(name)}`);
  let dir = path.posix.normalize("/" + start);
  for (;;) {
    const candidate = path.posix.join(dir, name);
    if (await statAt(ctx, d.source, joinPath(d.path, "." + candidate), false)) return candidate.slice(1);
    if (dir === "/") return null;
    dir = path.posix.dirname(dir);
  }
}

export interface SearchOptions {
  pattern: string;
  literal: boolean;
  multiline: boolean;
  dotall: boolean;
  insensitive: boolean;
  skipHidden: boolean;
  skipIgnored: boolean;
  filesOnly: boolean;
  limit: number | undefined;
  paths: string[];
  globs: string[];
}

function searchRegExp(o: SearchOptions): RegExp {
  const source = o.literal ? o.pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : o.pattern;
  const flags = `g${o.insensitive ? "i" : ""}${o.multiline ? "m" : ""}${o.dotall ? "s" : ""}`;
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new InvalidArgumentError(`search: invalid pattern ${JSON.stringify(o.pattern)}: ${(err as Error).message}`);
  }
}

/** Matches of `re` in one file's text, as results whose lines are the lines each match spans. */
function searchText(rel: string, text: string, re: RegExp, max: number): SearchResult[] {
  const out: SearchResult[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const byLine = new Map<number, { end: number; submatches: SearchSubmatch[] }>();
  for (const m of text.matchAll(re)) {
    if (m[0] === "") continue;
    const first = lineOf(m.index);
    const last = lineOf(m.index + m[0].length - 1);
    const start = lineStarts[first]!;
    const end = last + 1 < lineStarts.length ? lineStarts[last + 1]! : text.length;
    const entry = byLine.get(first) ?? { end, submatches: [] };
    entry.end = Math.max(entry.end, end);
    const bytesBefore = Buffer.byteLength(text.slice(start, m.index));
    entry.submatches.push(new SearchSubmatch(m[0], bytesBefore, bytesBefore + Buffer.byteLength(m[0])));
    byLine.set(first, entry);
  }
  for (const [line, { end, submatches }] of [...byLine].sort((a, b) => a[0] - b[0])) {
    if (out.length >= max) break;
    const start = lineStarts[line]!;
    out.push(new SearchResult(rel, line + 1, Buffer.byteLength(text.slice(0, start)), text.slice(start, end), submatches));
  }
  return out;
}

/** grep-like search of the files below `d` (or only `onlyFile`): one result per matching line, or per file with filesOnly. */
export async function searchTree(ctx: RequestContext, d: Directory, o: SearchOptions, onlyFile?: File): Promise<SearchResult[]> {
  const re = searchRegExp(o);
  const max = o.limit ?? Number.POSITIVE_INFINITY;
  if (o.limit !== undefined && o.limit < 0) throw new InvalidArgumentError(`search: limit must not be negative, got ${o.limit}`);
  if (onlyFile) {
    const text = (await readFileAt(ctx, onlyFile.source, onlyFile.path)).toString("utf8");
    const results = searchText(path.posix.basename(onlyFile.path), text, re, max);
    return o.filesOnly ? results.slice(0, 1).map((r) => new SearchResult(r.filePath, 0, 0, "", [])) : results;
  }
  const globFilter = o.globs.length ? new PathFilter({ include: o.globs }) : undefined;
  const ignores = o.skipIgnored ? new PathFilter({ exclude: await gitignoreExcludes(ctx, d) }) : undefined;
  return withView(ctx, d.source, async (root) => {
    const base = await resolveInRoot(root, d.path, { followLast: true });
    const out: SearchResult[] = [];
    const visit = async (rel: string): Promise<void> => {
      if (out.length >= max) return;
      const name = path.posix.basename(rel);
      if (rel !== "" && o.skipHidden && name.startsWith(".")) return;
      if (rel !== "" && ignores && !ignores.selects(rel)) return;
      const host = await resolveInRoot(base, rel || ".", { followLast: false });
      const st = await fs.lstat(host).catch(() => undefined);
      if (!st) throw new NotFoundError(`search: ${rel}: no such file or directory`);
      if (st.isDirectory()) {
        if (name === ".git") return;
        for (const e of (await fs.readdir(host)).sort()) await visit(rel ? `${rel}/${e}` : e);
        return;
      }
      if (!st.isFile() || (globFilter && !globFilter.selects(rel))) return;
      const buf = await fs.readFile(host);
      if (buf.subarray(0, 8000).includes(0)) return; // binary files are skipped, as grep tools do
      const results = searchText(rel, buf.toString("utf8"), re, max - out.length);
      if (o.filesOnly) {
        if (results.length) out.push(new SearchResult(rel, 0, 0, "", []));
      } else out.push(...results);
    };
    const starts = o.paths.length
      ? o.paths.map((p) =>
          path.posix
            .normalize(p)
            .replace(/^\/+|\/+$/g, "")
            .replace(/^\.$/, ""),
        )
      : [""];
    for (const s of starts) await visit(s);
    return out;
  });
}

/** `f` with `search` replaced: every occurrence (all), the first at or after line `firstFrom`, or the only one. */
export async function replaceInFile(
  ctx: RequestContext,
  f: File,
  search: string,
  replacement: string,
  opts: { all: boolean; firstFrom: number | undefined },
): Promise<File> {
  if (search === "") throw new InvalidArgumentError("withReplaced: search must not be empty");
  const text = (await readFileAt(ctx, f.source, f.path)).toString("utf8");
  const st = await statAt(ctx, f.source, f.path, true);
  let offsets: number[] = [];
  for (let i = text.indexOf(search); i >= 0; i = text.indexOf(search, i + search.length)) offsets.push(i);
  if (opts.firstFrom !== undefined) {
    if (opts.firstFrom < 1) throw new InvalidArgumentError(`withReplaced: firstFrom must be a line number from 1, got ${opts.firstFrom}`);
    let lineStart = 0;
    for (let line = 1; line < opts.firstFrom && lineStart >= 0; line++) {
      const nl = text.indexOf("\n", lineStart);
      lineStart = nl < 0 ? -1 : nl + 1;
    }
    offsets = lineStart < 0 ? [] : offsets.filter((o) => o >= lineStart).slice(0, 1);
  }
  if (offsets.length === 0) {
    const where = opts.firstFrom !== undefined ? ` from line ${opts.firstFrom}` : "";
    throw new FailedPreconditionError(`withReplaced: search string ${JSON.stringify(search)} not found in ${f.path}${where}`);
  }
  if (offsets.length > 1 && !opts.all) {
    throw new FailedPreconditionError(`withReplaced: search string ${JSON.stringify(search)} found ${offsets.length} times in ${f.path}: set all or firstFrom`);
  }
  let result = "";
  let prev = 0;
  for (const o of offsets) {
    result += text.slice(prev, o) + replacement;
    prev = o + search.length;
  }
  result += text.slice(prev);
  const dest = "/" + path.posix.basename(f.path);
  const v = changeFs(undefined, [{ action: "mkfile", path: dest, contents: result, permissions: (st?.mode ?? 0o644) & 0o7777 }], `withReplaced ${dest}`);
  return new File(v, dest);
}
