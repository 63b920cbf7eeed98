/** Directory/File helpers, changesets, search results, JSON values, env files and errors: arguments in, core calls out. */
import { mergeChangesets } from "../../core/changeset-merge.js";
import { applyPatch, changedPaths, changesetLayer, changesetPatch, diffStats, exportChangeset, withChanges } from "../../core/changesets.js";
import type { Container } from "../../core/container.js";
import {
  envFileText,
  envGet,
  envNamespace,
  envVariables,
  envWith,
  envWithout,
  jsonField,
  jsonTyped,
  jsonWithField,
  parseEnvFile,
} from "../../core/env-files.js";
import { readFileAt, solve } from "../../core/evaluate.js";
import { Changeset, type DiffStat, EnvFile, ErrorObject, ErrorValue, JSONValue, type SearchResult, type SearchSubmatch } from "../../core/extra-values.js";
import { changeFs } from "../../core/filesystem.js";
import { chownFile, chownInDirectory, filterDirectory, findUp, replaceInFile, type SearchOptions, searchTree } from "../../core/fs-extras.js";
import { encodeId } from "../../core/ids.js";
import type { RequestContext } from "../../core/types.js";
import { Directory, File, NamedValue } from "../../core/values.js";
import { FailedPreconditionError, InvalidArgumentError } from "../../errors.js";
import { loadObject } from "../objects.js";
import { type Args, bool, optInt, optStr, permissions, str, strList } from "./args.js";

const load = <T>(a: Args, k: string, type: string): T => loadObject(str(a, k), type) as unknown as T;

function searchOptions(a: Args): SearchOptions {
  return {
    pattern: str(a, "pattern"),
    literal: bool(a, "literal"),
    multiline: bool(a, "multiline"),
    dotall: bool(a, "dotall"),
    insensitive: bool(a, "insensitive"),
    skipHidden: bool(a, "skipHidden"),
    skipIgnored: bool(a, "skipIgnored"),
    filesOnly: bool(a, "filesOnly"),
    limit: optInt(a, "limit"),
    paths: strList(a, "paths"),
    globs: strList(a, "globs"),
  };
}

function parseJson(text: string, what: string): JSONValue {
  try {
    return JSONValue.of(JSON.parse(text));
  } catch (err) {
    throw new InvalidArgumentError(`${what}: not valid JSON: ${(err as Error).message}`);
  }
}

export const fsExtrasQueryResolvers = {
  file: (_: unknown, a: Args) => {
    const name = str(a, "name");
    if (name === "" || name.includes("/") || name === "." || name === "..")
      throw new InvalidArgumentError(`file: name must be a plain file name, got ${JSON.stringify(name)}`);
    const p = `/${name}`;
    return new File(changeFs(undefined, [{ action: "mkfile", path: p, contents: str(a, "contents"), permissions: permissions(a, 0o644) }], `file ${name}`), p);
  },
  json: () => JSONValue.of(null),
  envFile: (_: unknown, a: Args) => new EnvFile([], bool(a, "expand")),
  error: (_: unknown, a: Args) => new ErrorObject(str(a, "message"), []),
  changeset: () => new Changeset(new Directory(undefined, "/"), new Directory(undefined, "/")),
};

export const fsExtrasDirectoryResolvers = {
  filter: (d: Directory, a: Args, ctx: RequestContext) =>
    filterDirectory(ctx, d, { include: strList(a, "include"), exclude: strList(a, "exclude"), gitignore: bool(a, "gitignore") }),
  chown: (d: Directory, a: Args, ctx: RequestContext) => chownInDirectory(ctx, d, str(a, "path"), str(a, "owner")),
  search: (d: Directory, a: Args, ctx: RequestContext) => searchTree(ctx, d, searchOptions(a)),
  findUp: (d: Directory, a: Args, ctx: RequestContext) => findUp(ctx, d, str(a, "name"), str(a, "start")),
  withPatch: (d: Directory, a: Args, ctx: RequestContext) => applyPatch(ctx, d, str(a, "patch")),
  withPatchFile: async (d: Directory, a: Args, ctx: RequestContext) => {
    const f = load<File>(a, "patch", "File");
    return applyPatch(ctx, d, (await readFileAt(ctx, f.source, f.path)).toString("utf8"));
  },
  changes: (d: Directory, a: Args) => new Changeset(load<Directory>(a, "from", "Directory"), d),
  withChanges: (d: Directory, a: Args, ctx: RequestContext) => withChanges(ctx, d, load<Changeset>(a, "changes", "Changeset")),
  withError: (_d: Directory, a: Args) => {
    throw new FailedPreconditionError(str(a, "err"));
  },
};

export const fsExtrasFileResolvers = {
  withReplaced: (f: File, a: Args, ctx: RequestContext) =>
    replaceInFile(ctx, f, str(a, "search"), str(a, "replacement"), { all: bool(a, "all"), firstFrom: optInt(a, "firstFrom") }),
  chown: (f: File, a: Args) => chownFile(f, str(a, "owner")),
  search: (f: File, a: Args, ctx: RequestContext) => searchTree(ctx, new Directory(f.source, "/"), searchOptions(a), f),
  asJSON: async (f: File, _a: Args, ctx: RequestContext) => parseJson((await readFileAt(ctx, f.source, f.path)).toString("utf8"), `asJSON ${f.path}`),
  asEnvFile: async (f: File, a: Args, ctx: RequestContext) =>
    parseEnvFile((await readFileAt(ctx, f.source, f.path)).toString("utf8"), bool(a, "expand"), f.path),
};

export const searchResultResolvers = {
  id: (r: SearchResult) => encodeId(r),
  filePath: (r: SearchResult) => r.filePath,
  lineNumber: (r: SearchResult) => r.lineNumber,
  absoluteOffset: (r: SearchResult) => r.absoluteOffset,
  matchedLines: (r: SearchResult) => r.matchedLines,
  submatches: (r: SearchResult) => r.submatches,
};

export const searchSubmatchResolvers = {
  id: (s: SearchSubmatch) => encodeId(s),
  text: (s: SearchSubmatch) => s.text,
  start: (s: SearchSubmatch) => s.start,
  end: (s: SearchSubmatch) => s.end,
};

export const changesetResolvers = {
  id: (c: Changeset) => encodeId(c),
  sync: async (c: Changeset, _a: Args, ctx: RequestContext) => {
    await Promise.all([c.before.source && solve(ctx, c.before.source), c.after.source && solve(ctx, c.after.source)]);
    return encodeId(c);
  },
  before: (c: Changeset) => c.before,
  after: (c: Changeset) => c.after,
  addedPaths: async (c: Changeset, _a: Args, ctx: RequestContext) => (await changedPaths(ctx, c)).added,
  modifiedPaths: async (c: Changeset, _a: Args, ctx: RequestContext) => (await changedPaths(ctx, c)).modified,
  removedPaths: async (c: Changeset, _a: Args, ctx: RequestContext) => (await changedPaths(ctx, c)).removed,
  isEmpty: async (c: Changeset, _a: Args, ctx: RequestContext) => {
    const p = await changedPaths(ctx, c);
    return p.added.length + p.modified.length + p.removed.length === 0;
  },
  asPatch: (c: Changeset, _a: Args, ctx: RequestContext) => changesetPatch(ctx, c),
  diffStats: (c: Changeset, _a: Args, ctx: RequestContext) => diffStats(ctx, c),
  layer: (c: Changeset) => changesetLayer(c),
  export: (c: Changeset, a: Args, ctx: RequestContext) => exportChangeset(ctx, c, str(a, "path")),
  withChangeset: (c: Changeset, a: Args) => mergeChangesets(c, [load<Changeset>(a, "changes", "Changeset")], optStr(a, "onConflict") ?? "FAIL", false),
  withChangesets: (c: Changeset, a: Args) =>
    mergeChangesets(
      c,
      strList(a, "changes").map((id) => loadObject(id, "Changeset") as unknown as Changeset),
      optStr(a, "onConflict") ?? "FAIL",
      true,
    ),
};

export const diffStatResolvers = {
  id: (s: DiffStat) => encodeId(s),
  path: (s: DiffStat) => s.path,
  kind: (s: DiffStat) => s.kind,
  addedLines: (s: DiffStat) => s.addedLines,
  removedLines: (s: DiffStat) => s.removedLines,
  oldPath: (s: DiffStat) => s.oldPath ?? null,
};

export const jsonValueResolvers = {
  id: (v: JSONValue) => encodeId(v),
  contents: (v: JSONValue, a: Args) => (bool(a, "pretty") ? JSON.stringify(v.value, null, (a["indent"] as string | undefined) ?? "  ") : v.json),
  withContents: (_v: JSONValue, a: Args) => parseJson(str(a, "contents"), "withContents contents"),
  field: (v: JSONValue, a: Args) => jsonField(v, strList(a, "path")),
  fields: (v: JSONValue) => {
    const x = v.value;
    if (x === null || typeof x !== "object" || Array.isArray(x)) throw new InvalidArgumentError(`JSON value ${v.json.slice(0, 80)} is not an object`);
    return Object.keys(x);
  },
  withField: (v: JSONValue, a: Args) => jsonWithField(v, strList(a, "path"), load<JSONValue>(a, "value", "JSONValue")),
  asArray: (v: JSONValue) => jsonTyped<unknown[]>(v, "array").map((x) => JSONValue.of(x)),
  asBoolean: (v: JSONValue) => jsonTyped<boolean>(v, "boolean"),
  asInteger: (v: JSONValue) => jsonTyped<number>(v, "integer"),
  asString: (v: JSONValue) => jsonTyped<string>(v, "string"),
  newBoolean: (_v: JSONValue, a: Args) => JSONValue.of(bool(a, "value")),
  newInteger: (_v: JSONValue, a: Args) => JSONValue.of(optInt(a, "value") ?? 0),
  newString: (_v: JSONValue, a: Args) => JSONValue.of(str(a, "value")),
};

export const envFileResolvers = {
  id: (e: EnvFile) => encodeId(e),
  asFile: (e: EnvFile) =>
    new File(changeFs(undefined, [{ action: "mkfile", path: "/.env", contents: envFileText(e), permissions: 0o644 }], "asFile .env"), "/.env"),
  exists: (e: EnvFile, a: Args) => e.vars.some(([n]) => n === str(a, "name")),
  get: (e: EnvFile, a: Args) => envGet(e, str(a, "name"), bool(a, "raw")),
  namespace: (e: EnvFile, a: Args) => envNamespace(e, str(a, "prefix")),
  variables: (e: EnvFile, a: Args) => envVariables(e, bool(a, "raw")).map(([n, v]) => new NamedValue("EnvVariable", n, v)),
  withVariable: (e: EnvFile, a: Args) => envWith(e, str(a, "name"), str(a, "value")),
  withoutVariable: (e: EnvFile, a: Args) => envWithout(e, str(a, "name")),
};

export const errorResolvers = {
  id: (e: ErrorObject) => encodeId(e),
  message: (e: ErrorObject) => e.message,
  values: (e: ErrorObject) => e.values.map(([n, v]) => new ErrorValue(n, v)),
  withValue: (e: ErrorObject, a: Args) => new ErrorObject(e.message, [...e.values, [str(a, "name"), parseJson(str(a, "value"), "withValue value").json]]),
};

export const errorValueResolvers = {
  id: (v: ErrorValue) => encodeId(v),
  name: (v: ErrorValue) => v.name,
  value: (v: ErrorValue) => v.value,
};

export const fsExtrasContainerResolvers = {
  withEnvFileVariables: (c: Container, a: Args) =>
    envVariables(load<EnvFile>(a, "source", "EnvFile"), false).reduce((acc, [n, v]) => acc.withEnvVariable(n, v), c),
  withError: (_c: Container, a: Args) => {
    throw new FailedPreconditionError(str(a, "err"));
  },
};
