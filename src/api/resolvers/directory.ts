/** Directory and File: paths inside a vertex's output, changed by file ops. */
import * as path from "node:path";
import { digestTree, fileDigest, globDir, listDir, readFileAt, solve } from "../../core/evaluate.js";
import { type Change, changeFs, joinPath, removal } from "../../core/filesystem.js";
import { exportDirectory, exportFile, type Host, hostDirectory, hostFile, hostFindUp } from "../../core/host.js";
import { encodeId } from "../../core/ids.js";
import { existingDirectory, existingFile, fileContents, pathExists, statPath } from "../../core/path-lookups.js";
import type { RequestContext } from "../../core/types.js";
import { Directory, File, type Stat } from "../../core/values.js";
import { loadObject } from "../objects.js";
import { type Args, bool, optInt, optStr, permissions, str, strList } from "./args.js";

const dirArg = (a: Args, k: string): Directory => loadObject(str(a, k), "Directory") as Directory;
const fileArg = (a: Args, k: string): File => loadObject(str(a, k), "File") as File;

/** A copy of a Directory's contents to `dest`, with the API's filter and owner arguments. */
export function copyDirectory(src: Directory, dest: string, a: Args): Change {
  const owner = optStr(a, "owner");
  const include = strList(a, "include");
  const exclude = strList(a, "exclude");
  const mode = permissions(a);
  return {
    action: "copy",
    from: src,
    dest,
    ...(include.length ? { include } : {}),
    ...(exclude.length ? { exclude } : {}),
    ...(owner ? { owner } : {}),
    ...(mode !== undefined ? { permissions: mode } : {}),
    ...(bool(a, "gitignore") ? { gitignore: true as const } : {}),
  };
}

/** A copy of a File to `dest`. */
export function copyFile(src: File, dest: string, a: Args): Change {
  const owner = optStr(a, "owner");
  const mode = permissions(a);
  return { action: "copy", from: src, dest, ...(owner ? { owner } : {}), ...(mode !== undefined ? { permissions: mode } : {}) };
}

function change(d: Directory, changes: Change[], name: string): Directory {
  return new Directory(changeFs(d.source, changes, name), d.path);
}

export const directoryResolvers = {
  id: (d: Directory) => encodeId(d),
  sync: async (d: Directory, _a: Args, ctx: RequestContext) => {
    // A sub-directory must exist.
    if (d.path !== "/") await existingDirectory(ctx, d.source, d.path);
    else if (d.source) await solve(ctx, d.source);
    return encodeId(d);
  },
  name: (d: Directory) => (d.path === "/" ? "/" : path.posix.basename(d.path) + "/"),
  entries: (d: Directory, a: Args, ctx: RequestContext) => listDir(ctx, d.source, joinPath(d.path, optStr(a, "path") ?? ".")),
  glob: (d: Directory, a: Args, ctx: RequestContext) => globDir(ctx, d.source, d.path, str(a, "pattern")),
  file: async (d: Directory, a: Args, ctx: RequestContext) => existingFile(ctx, d.source, joinPath(d.path, str(a, "path"))),
  directory: async (d: Directory, a: Args, ctx: RequestContext) => existingDirectory(ctx, d.source, joinPath(d.path, str(a, "path"))),
  exists: (d: Directory, a: Args, ctx: RequestContext) =>
    pathExists(ctx, d.source, joinPath(d.path, str(a, "path")), !bool(a, "doNotFollowSymlinks"), optStr(a, "expectedType")),
  stat: (d: Directory, a: Args, ctx: RequestContext) => statPath(ctx, d, joinPath(d.path, str(a, "path")), !bool(a, "doNotFollowSymlinks")),
  digest: async (d: Directory, _a: Args, ctx: RequestContext) => digestTree(ctx, d.source, d.path),
  withNewFile: (d: Directory, a: Args) => {
    const p = joinPath(d.path, str(a, "path"));
    return change(d, [{ action: "mkfile", path: p, contents: str(a, "contents"), permissions: permissions(a, 0o644) }], `withNewFile ${p}`);
  },
  withNewDirectory: (d: Directory, a: Args) => {
    const p = joinPath(d.path, str(a, "path"));
    return change(d, [{ action: "mkdir", path: p, permissions: permissions(a, 0o755) }], `withNewDirectory ${p}`);
  },
  withDirectory: (d: Directory, a: Args) => {
    const p = joinPath(d.path, str(a, "path"));
    return change(d, [copyDirectory(dirArg(a, "source"), p, a)], `withDirectory ${p}`);
  },
  withFile: (d: Directory, a: Args) => {
    const p = joinPath(d.path, str(a, "path"));
    return change(d, [copyFile(fileArg(a, "source"), p, a)], `withFile ${p}`);
  },
  withFiles: (d: Directory, a: Args) => {
    const dir = joinPath(d.path, str(a, "path"));
    const files = strList(a, "sources").map((id) => loadObject(id, "File") as File);
    return change(
      d,
      files.map((f) => copyFile(f, path.posix.join(dir, path.posix.basename(f.path)), a)),
      `withFiles ${dir}`,
    );
  },
  withoutFile: (d: Directory, a: Args) => {
    const p = joinPath(d.path, str(a, "path"));
    return change(d, [removal(p)], `withoutFile ${p}`);
  },
  withoutFiles: (d: Directory, a: Args) => {
    const paths = strList(a, "paths").map((p) => joinPath(d.path, p));
    return change(
      d,
      paths.map((p) => removal(p)),
      `withoutFiles ${paths.join(" ")}`,
    );
  },
  withoutDirectory: (d: Directory, a: Args) => {
    const p = joinPath(d.path, str(a, "path"));
    return change(d, [removal(p)], `withoutDirectory ${p}`);
  },
  withSymlink: (d: Directory, a: Args) => {
    const link = joinPath(d.path, str(a, "linkName"));
    return change(d, [{ action: "symlink", target: str(a, "target"), link }], `withSymlink ${link}`);
  },
  withTimestamps: (d: Directory, a: Args) => change(d, [{ action: "timestamps", path: d.path, time: optInt(a, "timestamp") ?? 0 }], `withTimestamps ${d.path}`),
  export: (d: Directory, a: Args, ctx: RequestContext) => exportDirectory(ctx, d, str(a, "path"), bool(a, "wipe")),
  diff: (d: Directory, a: Args) => new Directory(changeFs(undefined, [{ action: "diff", lower: d, upper: dirArg(a, "other"), dest: "/" }], "diff"), "/"),
};

export const fileResolvers = {
  id: (f: File) => encodeId(f),
  sync: async (f: File, _a: Args, ctx: RequestContext) => {
    await readFileAt(ctx, f.source, f.path);
    return encodeId(f);
  },
  contents: (f: File, a: Args, ctx: RequestContext) => fileContents(ctx, f, optInt(a, "offsetLines") ?? 0, optInt(a, "limitLines")),
  size: async (f: File, _a: Args, ctx: RequestContext) => (await readFileAt(ctx, f.source, f.path)).length,
  name: (f: File) => path.posix.basename(f.path),
  digest: (f: File, a: Args, ctx: RequestContext) => fileDigest(ctx, f.source, f.path, bool(a, "excludeMetadata")),
  stat: (f: File, _a: Args, ctx: RequestContext) => statPath(ctx, f, f.path, true),
  export: (f: File, a: Args, ctx: RequestContext) => exportFile(ctx, f, str(a, "path"), bool(a, "allowParentDirPath")),
  withName: (f: File, a: Args) => {
    const dest = "/" + str(a, "name");
    return new File(changeFs(undefined, [{ action: "copy", from: f, dest }], `withName ${dest}`), dest);
  },
  withTimestamps: (f: File, a: Args) => {
    const dest = "/" + path.posix.basename(f.path);
    const v = changeFs(
      undefined,
      [
        { action: "copy", from: f, dest },
        { action: "timestamps", path: dest, time: optInt(a, "timestamp") ?? 0 },
      ],
      `withTimestamps ${dest}`,
    );
    return new File(v, dest);
  },
};

export const statResolvers = {
  id: (s: Stat) => encodeId(s),
  name: (s: Stat) => s.name,
  fileType: (s: Stat) => s.fileType,
  permissions: (s: Stat) => s.permissions,
  size: (s: Stat) => s.size,
};

export const hostResolvers = {
  id: (h: Host) => encodeId(h),
  directory: (_h: Host, a: Args, ctx: RequestContext) =>
    hostDirectory(ctx, str(a, "path"), {
      include: strList(a, "include"),
      exclude: strList(a, "exclude"),
      gitignore: bool(a, "gitignore"),
      noCache: bool(a, "noCache"),
    }),
  file: (_h: Host, a: Args, ctx: RequestContext) => hostFile(ctx, str(a, "path"), bool(a, "noCache")),
  findUp: (_h: Host, a: Args, ctx: RequestContext) => hostFindUp(ctx, str(a, "name"), bool(a, "noCache")),
};
