/**
 * The client's machine as the API sees it (`host()`): its directories and
 * files come in through the session (never read from the engine's disk), and
 * exports go out the same way.
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { packDirectory } from "../archive/write-layer.js";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import type { SyncResult } from "../hostsync/host-mirror.js";
import type { StatTreeParams } from "../http/session-protocol.js";
import type { HostDirOp } from "../ops/host-dir-op.js";
import { vertex } from "../solver/vertex.js";
import { statAt, withView } from "./evaluate.js";
import type { RequestContext, Session } from "./types.js";
import { Directory, File } from "./values.js";

export class Host {
  readonly typename = "Host";
  toJSON(): unknown {
    return {};
  }
}

async function sync(ctx: RequestContext, params: StatTreeParams, noCache: boolean): Promise<SyncResult> {
  const key = JSON.stringify(params);
  const cached = noCache ? undefined : ctx.session.hostSyncs.get(key);
  if (cached) return cached;
  const syncing = ctx.deps.hostMirrors.sync(ctx.session.host, ctx.session.clientKey, params, ctx.signal);
  ctx.session.hostSyncs.set(key, syncing);
  syncing.catch(() => ctx.session.hostSyncs.delete(key));
  return syncing;
}

/** Client content as a vertex: the client and the content digest, not this engine's snapshot. */
function hostVertex(ctx: RequestContext, params: StatTreeParams, result: SyncResult, label: string) {
  const op: HostDirOp = { kind: "host-dir", digest: result.digest, type: result.kind, origin: { client: ctx.session.clientKey, ...params } };
  return vertex(op, [], label);
}

export async function hostDirectory(
  ctx: RequestContext,
  p: string,
  opts: { include: string[]; exclude: string[]; gitignore: boolean; noCache: boolean },
): Promise<Directory> {
  const params = { path: p, include: opts.include, exclude: opts.exclude, gitignore: opts.gitignore };
  const result = await sync(ctx, params, opts.noCache);
  if (result.kind !== "dir") throw new FailedPreconditionError(`host path "${p}" is a file, not a directory: use host().file()`);
  return new Directory(hostVertex(ctx, params, result, `host.directory ${p}`), "/");
}

export async function hostFile(ctx: RequestContext, p: string, noCache: boolean): Promise<File> {
  const params = { path: p, include: [], exclude: [], gitignore: false };
  const result = await sync(ctx, params, noCache);
  if (result.kind !== "file" || !result.name) throw new FailedPreconditionError(`host path "${p}" is a directory, not a file: use host().directory()`);
  return new File(hostVertex(ctx, params, result, `host.file ${p}`), "/" + result.name);
}

// Host.findUp answers per session (by name), asked again with noCache.
const foundUp = new WeakMap<Session, Map<string, Promise<string | null>>>();

/** The nearest `name` in the client's working directory or its parents, relative to it; null when none. */
export function hostFindUp(ctx: RequestContext, name: string, noCache: boolean): Promise<string | null> {
  let memo = foundUp.get(ctx.session);
  if (!memo) foundUp.set(ctx.session, (memo = new Map()));
  const hit = noCache ? undefined : memo.get(name);
  if (hit) return hit;
  const asking = ctx.session.host.findUp(name, ctx.signal);
  memo.set(name, asking);
  asking.catch(() => memo.delete(name));
  return asking;
}

/**
 * A client file loaded through its directory with filters (Address.file):
 * the file as the filtered directory holds it, or an error when the filters
 * leave it out.
 */
export async function hostFileFiltered(
  ctx: RequestContext,
  p: string,
  opts: { include: string[]; exclude: string[]; gitignore: boolean; noCache: boolean },
): Promise<File> {
  const name = path.posix.basename(p);
  const dir = await hostDirectory(ctx, path.posix.dirname(p), { ...opts, include: opts.include.length > 0 ? opts.include : [name] });
  const st = await statAt(ctx, dir.source, `/${name}`);
  if (!st) throw new NotFoundError(`host path "${p}": no such file or directory (left out by include/exclude/gitignore)`);
  if (st.type !== "REGULAR") throw new FailedPreconditionError(`host path "${p}" is not a regular file`);
  return new File(dir.source, `/${name}`);
}

export async function exportDirectory(ctx: RequestContext, d: Directory, dest: string, wipe: boolean): Promise<string> {
  return withView(ctx, d.source, async (root) => {
    const dir = await resolveInRoot(root, d.path, { followLast: true });
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st) throw new NotFoundError(`lstat ${d.path}: no such file or directory`);
    if (!st.isDirectory()) throw new FailedPreconditionError(`path ${d.path} is a file, not a directory`);
    return ctx.session.host.write({ path: dest, kind: "dir", wipe, allowParentDirPath: false }, packDirectory(dir), ctx.signal);
  });
}

export async function exportFile(ctx: RequestContext, f: File, dest: string, allowParentDirPath: boolean): Promise<string> {
  return withView(ctx, f.source, async (root) => {
    const file = await resolveInRoot(root, f.path, { followLast: true });
    const st = await fs.stat(file).catch(() => undefined);
    if (!st) throw new NotFoundError(`lstat ${f.path}: no such file or directory`);
    if (!st.isFile()) throw new FailedPreconditionError(`path ${f.path} is not a regular file`);
    return ctx.session.host.write({ path: dest, kind: "file", wipe: false, allowParentDirPath }, packFile(file, path.posix.basename(f.path), st), ctx.signal);
  });
}

/** A tar stream holding one file. */
function packFile(file: string, name: string, st: import("node:fs").Stats): Readable {
  return packOneFile({ name, size: st.size, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid }, createReadStream(file));
}

/**
 * A tar stream holding one file whose bytes come from `body` (what
 * `host.write` of kind "file" takes). The size must be known up front.
 */
export function packOneFile(header: { name: string; size: number; mode: number; mtime: Date; uid?: number; gid?: number }, body: Readable): Readable {
  const pack = tar.pack();
  const entry = pack.entry({ uid: 0, gid: 0, ...header }, (err) => {
    if (err) pack.destroy(err);
    else pack.finalize();
  });
  // A failed read fails the tar; a tar torn down (its reader hung up) closes the file.
  body.on("error", (err) => pack.destroy(err));
  entry.on("error", () => body.destroy());
  body.pipe(entry);
  const out = Readable.from(pack, { objectMode: false });
  out.on("close", () => body.destroy());
  return out;
}
