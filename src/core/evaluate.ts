/**
 * Leaf evaluation: the places where a recipe meets the solver and the disk.
 * Everything here solves a vertex, then reads its result.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { withMounted } from "../mount/mount.js";
import type { CommittedSnapshot } from "../snapshots/types.js";
import type { Result, Vertex } from "../solver/types.js";
import type { ExecResultMeta } from "../ops/exec-op.js";
import type { Container } from "./container.js";
import type { RequestContext } from "./types.js";

export function solve(ctx: RequestContext, v: Vertex): Promise<Result> {
  return ctx.deps.solver.solve(v, { signal: ctx.signal, progress: (e) => ctx.session.progress(e), session: ctx.session });
}

/** Evaluate a container: its filesystem and its last exec. */
export async function syncContainer(ctx: RequestContext, c: Container): Promise<void> {
  await Promise.all([c.state.rootfs ? solve(ctx, c.state.rootfs) : undefined, c.state.lastExec ? solve(ctx, c.state.lastExec) : undefined]);
}

export async function execResult(ctx: RequestContext, c: Container): Promise<ExecResultMeta> {
  if (!c.state.lastExec) throw new FailedPreconditionError("no command has been executed: call withExec first");
  return (await solve(ctx, c.state.lastExec)).meta as unknown as ExecResultMeta;
}

/** Run `fn` with a read-only view of a vertex's output filesystem. */
export async function withView<T>(ctx: RequestContext, source: Vertex | undefined, fn: (root: string) => Promise<T>): Promise<T> {
  const result = source ? await solve(ctx, source) : { meta: {} };
  const snapshot = result.snapshot === undefined ? undefined : ctx.deps.snapshots.get(result.snapshot);
  if (!snapshot) {
    // The empty filesystem.
    const empty = path.join(ctx.deps.runDir, `empty-${randomBytes(6).toString("hex")}`);
    await fs.mkdir(empty, { recursive: true });
    try {
      return await fn(empty);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  }
  return withSnapshotView(ctx, snapshot, fn);
}

async function withSnapshotView<T>(ctx: RequestContext, snapshot: CommittedSnapshot, fn: (root: string) => Promise<T>): Promise<T> {
  const { snapshots } = ctx.deps;
  snapshots.touch(snapshot);
  // A single layer is readable where it lies: no mount needed.
  if (snapshot.chain.length === 1) return fn(snapshots.layerDir(snapshot));
  return withMounted(snapshots.viewMounts(snapshot), path.join(ctx.deps.runDir, `view-${randomBytes(6).toString("hex")}`), fn);
}

export async function readFileAt(ctx: RequestContext, source: Vertex | undefined, file: string): Promise<Buffer> {
  return withView(ctx, source, async (root) => {
    const host = await resolveInRoot(root, file, { followLast: true });
    try {
      const st = await fs.stat(host);
      if (st.isDirectory()) throw new FailedPreconditionError(`"${file}" is a directory, not a file`);
      return await fs.readFile(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`file "${file}" not found`);
      throw err;
    }
  });
}

export async function statAt(ctx: RequestContext, source: Vertex | undefined, p: string): Promise<{ size: number; isDir: boolean } | undefined> {
  return withView(ctx, source, async (root) => {
    try {
      const st = await fs.stat(await resolveInRoot(root, p, { followLast: true }));
      return { size: st.size, isDir: st.isDirectory() };
    } catch (err) {
      if (["ENOENT", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "")) return undefined;
      throw err;
    }
  });
}

export async function listDir(ctx: RequestContext, source: Vertex | undefined, dir: string): Promise<string[]> {
  return withView(ctx, source, async (root) => {
    try {
      const names = await fs.readdir(await resolveInRoot(root, dir, { followLast: true }));
      return names.sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new NotFoundError(`directory "${dir}" not found`);
      if (code === "ENOTDIR") throw new FailedPreconditionError(`"${dir}" is not a directory`);
      throw err;
    }
  });
}

/** Paths below `dir` matching a glob (`*`, `?`, `**`, `[…]`, `{a,b}`), relative to it. */
export async function globDir(ctx: RequestContext, source: Vertex | undefined, dir: string, pattern: string): Promise<string[]> {
  const re = globToRegExp(pattern);
  return withView(ctx, source, async (root) => {
    const base = await resolveInRoot(root, dir, { followLast: true });
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
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
    return out.map((p) => p.replace(/\/$/, ""));
  });
}

export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += "[" + pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else if (ch === "{") {
      const end = pattern.indexOf("}", i + 1);
      if (end < 0) re += "\\{";
      else {
        re += "(?:" + pattern.slice(i + 1, end).split(",").map(escapeRe).join("|") + ")";
        i = end;
      }
    } else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, "\\$&");
}
