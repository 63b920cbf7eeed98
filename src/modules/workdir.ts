/**
 * `currentModule.workdir` / `workdirFile` (core/schema/module.go): what a
 * function's code left in its runtime's working directory (`/scratch`), read
 * while the function runs. The engine copies the path out of the running
 * container's root filesystem into a new snapshot named by its content (as
 * client directories are), so the Directory or File outlives the container
 * and its ID names content, not this call.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { RequestContext } from "../core/types.js";
import { Directory, File } from "../core/values.js";
import { type EngineError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { copyPath } from "../fsutil/copy.js";
import { gitignoreExcludes } from "../fsutil/gitignore.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { PathFilter } from "../fsutil/path-filter.js";
import { type Digest, digestHex, sha256 } from "../oci/digest.js";
import type { HostDirOp } from "../ops/host-dir-op.js";
import { vertex } from "../solver/vertex.js";

/** Where the runtime runs a module's code (Dagger's sdk.RuntimeWorkdirPath). */
export const RUNTIME_WORKDIR = "/scratch";

export interface WorkdirFilter {
  include: string[];
  exclude: string[];
  gitignore: boolean;
}

/** Go's filepath.IsLocal: relative, not empty, and not climbing out with `..`. */
function checkLocal(p: string): string {
  const clean = path.posix.normalize(p);
  if (p === "" || p.includes("\0") || path.posix.isAbsolute(p) || clean === ".." || clean.startsWith("../")) {
    throw new InvalidArgumentError(`workdir path ${JSON.stringify(p)} escapes workdir`);
  }
  return clean;
}

/** The running container's root filesystem, which only a function call's nested session has. */
function rootfsOf(ctx: RequestContext, field: string): string {
  const rootfs = (ctx.session as { rootfs?: string }).rootfs;
  if (!rootfs) throw new FailedPreconditionError(`${field}: the module's container filesystem is not available in this session`);
  return rootfs;
}

export async function workdirDirectory(ctx: RequestContext, moduleName: string, p: string, filter: WorkdirFilter): Promise<Directory> {
  const rel = checkLocal(p);
  const rootfs = rootfsOf(ctx, "workdir");
  const inside = path.posix.join(RUNTIME_WORKDIR, rel);
  const st = await statIn(rootfs, inside, p);
  if (!st.isDirectory()) throw new FailedPreconditionError(`workdir path ${JSON.stringify(p)} is a file, not a directory: use workdirFile`);
  const exclude = [...filter.exclude, ...(filter.gitignore ? await gitignoreExcludes(await resolveInRoot(rootfs, inside, { followLast: true })) : [])];
  const copyFilter = new PathFilter({ include: filter.include, exclude });
  const digest = await snapshotOf(ctx, (dest) => copyPath(rootfs, inside, dest, "/", copyFilter.isEmpty ? {} : { filter: copyFilter }));
  return new Directory(workdirVertex(moduleName, inside, filter, digest, "dir"), "/");
}

export async function workdirFile(ctx: RequestContext, moduleName: string, p: string): Promise<File> {
  const rel = checkLocal(p);
  const rootfs = rootfsOf(ctx, "workdirFile");
  const inside = path.posix.join(RUNTIME_WORKDIR, rel);
  const st = await statIn(rootfs, inside, p);
  if (st.isDirectory()) throw new FailedPreconditionError(`workdir path ${JSON.stringify(p)} is a directory, not a file: use workdir`);
  const name = path.posix.basename(inside);
  const digest = await snapshotOf(ctx, (dest) => copyPath(rootfs, inside, dest, `/${name}`));
  return new File(workdirVertex(moduleName, inside, { include: [], exclude: [], gitignore: false }, digest, "file"), `/${name}`);
}

async function statIn(rootfs: string, inside: string, asked: string): Promise<import("node:fs").Stats> {
  try {
    return await fs.stat(await resolveInRoot(rootfs, inside, { followLast: true }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as EngineError).code === "NOT_FOUND") {
      throw new NotFoundError(`workdir path ${JSON.stringify(asked)} not found in the module's working directory ${RUNTIME_WORKDIR}`);
    }
    throw err;
  }
}

/** The copied tree as a snapshot `host/<content digest>` (as client content is kept), made once per content. */
async function snapshotOf(ctx: RequestContext, fill: (dest: string) => Promise<void>): Promise<Digest> {
  const snapshots = ctx.deps.snapshots;
  const active = await snapshots.prepare(undefined);
  try {
    await fill(active.upperDir);
    const digest = await treeDigest(active.upperDir);
    const name = `host/${digestHex(digest)}`;
    if (snapshots.get(name)) await snapshots.abort(active);
    else await snapshots.commit(active, name);
    return digest;
  } catch (err) {
    await snapshots.abort(active).catch(() => undefined);
    throw err;
  }
}

/** A digest of the tree's paths, types, modes and contents (link targets), as client trees are named. */
async function treeDigest(root: string): Promise<Digest> {
  const rows: Array<[string, string, number, string]> = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, childRel);
      const st = await fs.lstat(abs);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        rows.push([childRel, "dir", mode, ""]);
        await walk(childRel);
      } else if (st.isSymbolicLink()) rows.push([childRel, "symlink", mode, await fs.readlink(abs)]);
      else if (st.isFile()) rows.push([childRel, "file", mode, await fileDigest(abs)]);
    }
  };
  await walk("");
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return sha256(JSON.stringify(rows));
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/** The content as a vertex: by digest, its origin (module and path) outside the cache key. */
function workdirVertex(moduleName: string, inside: string, filter: WorkdirFilter, digest: Digest, type: "dir" | "file") {
  const op: HostDirOp = {
    kind: "host-dir",
    digest,
    type,
    origin: {
      client: `module ${moduleName} workdir`,
      path: inside,
      include: filter.include,
      exclude: filter.exclude,
      gitignore: filter.gitignore,
      workdirOf: moduleName,
    },
  };
  return vertex(op, [], `currentModule.${type === "dir" ? "workdir" : "workdirFile"} ${inside}`);
}
