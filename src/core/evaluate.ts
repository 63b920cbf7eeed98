/**
 * Leaf evaluation: the places where a recipe meets the solver and the disk.
 * Everything here solves a vertex, then reads its result.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { globToRegExp } from "../fsutil/glob.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import type { ExecResultMeta } from "../ops/exec-types.js";
import { withSnapshotView } from "../snapshots/view.js";
import type { Result, SolveContext, Vertex } from "../solver/types.js";
import type { Container } from "./container.js";
import type { RequestContext } from "./types.js";
import type { FileType } from "./values.js";

/** What the solver needs to know of a request: its session, secrets, leases and signal. */
export function solveContext(ctx: RequestContext): SolveContext {
  return {
    signal: ctx.signal,
    progress: (e) => ctx.session.progress(e),
    ...(ctx.span ? { span: ctx.span } : {}),
    session: ctx.session,
    secrets: ctx.session.secrets,
    lease: (snapshot) => ctx.deps.leases.lease(ctx.session.id, snapshot),
  };
}

export function solve(ctx: RequestContext, v: Vertex): Promise<Result> {
  return ctx.deps.solver.solve(v, solveContext(ctx));
}

/** Evaluate a container: its filesystem and its last exec. */
export async function syncContainer(ctx: RequestContext, c: Container): Promise<void> {
  const { rootfs, lastExec } = c.state;
  // After a withExec both are the exec itself: solve it once.
  const vertices = lastExec && lastExec.digest !== rootfs?.digest ? [rootfs, lastExec] : [rootfs];
  await Promise.all(vertices.map((v) => (v ? solve(ctx, v) : undefined)));
}

export async function execResult(ctx: RequestContext, c: Container): Promise<ExecResultMeta> {
  if (!c.state.lastExec) throw new FailedPreconditionError("no command has been executed: call withExec first");
  return (await solve(ctx, c.state.lastExec)).meta as unknown as ExecResultMeta;
}

/** Run `fn` with a read-only view of a vertex's output filesystem. */
export async function withView<T>(ctx: RequestContext, source: Vertex | undefined, fn: (root: string) => Promise<T>): Promise<T> {
  const result = source ? await solve(ctx, source) : undefined;
  const snapshot = result?.snapshot === undefined ? undefined : ctx.deps.snapshots.get(result.snapshot);
  return withSnapshotView(ctx.deps.snapshots, snapshot, ctx.deps.runDir, fn);
}

export async function readFileAt(ctx: RequestContext, source: Vertex | undefined, file: string): Promise<Buffer> {
  return withView(ctx, source, async (root) => {
    const host = await resolveInRoot(root, file, { followLast: true });
    try {
      const st = await fs.stat(host);
      if (st.isDirectory()) throw new FailedPreconditionError(`"${file}" is a directory, not a file`);
      return await fs.readFile(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`open ${file}: no such file or directory`);
      throw err;
    }
  });
}

export interface PathStat {
  type: FileType;
  mode: number;
  size: number;
}

export async function statAt(ctx: RequestContext, source: Vertex | undefined, p: string, follow = true): Promise<PathStat | undefined> {
  return withView(ctx, source, async (root) => {
    try {
      const st = await fs.lstat(await resolveInRoot(root, p, { followLast: follow }));
      const type: FileType = st.isDirectory() ? "DIRECTORY" : st.isFile() ? "REGULAR" : st.isSymbolicLink() ? "SYMLINK" : "UNKNOWN";
      return { type, mode: st.mode, size: st.size };
    } catch (err) {
      if (["ENOENT", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "")) return undefined;
      throw err;
    }
  });
}

/**
 * A content digest of a directory tree: names, types, modes, link targets and
 * file contents (not owners or times), walked in sorted order.
 */
export async function digestTree(ctx: RequestContext, source: Vertex | undefined, dir: string): Promise<string> {
  return withView(ctx, source, async (root) => {
    const base = await resolveInRoot(root, dir, { followLast: true });
    const st = await fs.stat(base).catch(() => undefined);
    if (!st) throw new NotFoundError(`lstat ${dir}: no such file or directory`);
    if (!st.isDirectory()) throw new FailedPreconditionError(`path ${dir} is a file, not a directory`);
    const hash = createHash("sha256");
    const walk = async (rel: string): Promise<void> => {
      for (const name of (await fs.readdir(path.join(base, rel))).sort()) {
        const p = rel ? `${rel}/${name}` : name;
        const st = await fs.lstat(path.join(base, p));
        hash.update(`${p}\0${st.mode.toString(8)}\0`);
        if (st.isDirectory()) await walk(p);
        else if (st.isSymbolicLink()) hash.update(await fs.readlink(path.join(base, p)));
        else if (st.isFile()) hash.update(await fs.readFile(path.join(base, p)));
        hash.update("\0");
      }
    };
    await walk("");
    return `sha256:${hash.digest("hex")}`;
  });
}

/**
 * A file's digest: of its contents alone (`excludeMetadata`, Dagger's plain
 * SHA-256 of the bytes), or of its contents and metadata (type, permission
 * bits, owner), so that a chmod or chown changes it.
 */
export async function fileDigest(ctx: RequestContext, source: Vertex | undefined, file: string, excludeMetadata: boolean): Promise<string> {
  return withView(ctx, source, async (root) => {
    const host = await resolveInRoot(root, file, { followLast: true });
    const st = await fs.stat(host).catch((err: NodeJS.ErrnoException) => {
      throw err.code === "ENOENT" ? new NotFoundError(`lstat ${file}: no such file or directory`) : err;
    });
    if (st.isDirectory()) throw new FailedPreconditionError(`"${file}" is a directory, not a file`);
    const contents = createHash("sha256")
      .update(await fs.readFile(host))
      .digest("hex");
    if (excludeMetadata) return `sha256:${contents}`;
    const meta = `mode=${(st.mode & 0o177777).toString(8)}\0uid=${st.uid}\0gid=${st.gid}\0size=${st.size}\0sha256=${contents}`;
    return `sha256:${createHash("sha256").update(meta).digest("hex")}`;
  });
}

export async function listDir(ctx: RequestContext, source: Vertex | undefined, dir: string): Promise<string[]> {
  return withView(ctx, source, async (root) => {
    try {
      // As Dagger answers: a directory's name ends with "/" (a symlink's never does).
      const entries = await fs.readdir(await resolveInRoot(root, dir, { followLast: true }), { withFileTypes: true });
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new NotFoundError(`readdir ${dir}: no such file or directory`);
      if (code === "ENOTDIR") throw new FailedPreconditionError(`"${dir}" is not a directory`);
      throw err;
    }
  });
}

/** Paths below `dir` matching a glob (`*`, `?`, `**`, `[…]`, `{a,b}`), relative to it; directories end with "/". */
export async function globDir(ctx: RequestContext, source: Vertex | undefined, dir: string, pattern: string): Promise<string[]> {
  const re = globToRegExp(pattern);
  return withView(ctx, source, async (root) => {
    const base = await resolveInRoot(root, dir, { followLast: true });
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await fs.readdir(path.join(base, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (re.test(p)) out.push(e.isDirectory() ? p + "/" : p);
        if (e.isDirectory()) await walk(p);
      }
    };
    await walk("");
    return out;
  });
}
