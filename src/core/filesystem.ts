/**
 * Filesystem changes as recipes: every `with*`/`without*` on a Directory or
 * a Container's rootfs becomes a file-op vertex on top of the previous one.
 * Copies name their source as a value (a Directory or File); they become
 * extra inputs of the vertex, deduplicated.
 */
import * as path from "node:path";
import type { FileAction } from "../ops/file-op.js";
import type { Vertex } from "../solver/types.js";
import { vertex } from "../solver/vertex.js";

/** A path inside a vertex's output (undefined vertex: the empty filesystem). */
export interface FsRef {
  readonly source: Vertex | undefined;
  readonly path: string;
}

export type Change =
  | Exclude<FileAction, { action: "copy" | "diff" }>
  | (Omit<Extract<FileAction, { action: "copy" }>, "source" | "src"> & { from: FsRef })
  | { action: "diff"; lower: FsRef; upper: FsRef; dest: string };

/** A vertex applying `changes` on `base`. */
export function changeFs(base: Vertex | undefined, changes: readonly Change[], name: string): Vertex {
  const sources: Vertex[] = [];
  const actions: FileAction[] = [];
  const indexOf = (source: Vertex | undefined): number => {
    if (!source) return -1;
    const i = sources.findIndex((s) => s.digest === source.digest);
    return i >= 0 ? i : sources.push(source) - 1;
  };
  for (const change of changes) {
    if (change.action === "diff") {
      const { lower, upper, dest } = change;
      actions.push({ action: "diff", lower: indexOf(lower.source), lowerPath: lower.path, upper: indexOf(upper.source), upperPath: upper.path, dest });
      continue;
    }
    if (change.action !== "copy") {
      actions.push(change);
      continue;
    }
    const { from, ...rest } = change;
    // Copying from the empty filesystem copies nothing (but still creates the destination directory).
    if (!from.source) {
      actions.push({ action: "mkdir", path: rest.dest, permissions: 0o755 });
      continue;
    }
    actions.push({ ...rest, source: indexOf(from.source), src: from.path });
  }
  return vertex({ kind: "file", base: base !== undefined, actions }, base ? [base, ...sources] : sources, name);
}

/** Resolve `p` against `dir` the way the API does: absolute stays, relative joins. */
export function joinPath(dir: string, p: string): string {
  return path.posix.resolve(dir, p);
}

/** withoutFile(s)/withoutDirectory: remove `p` if it is there; `*`, `?` and `[…]` match names, as in Dagger. */
export function removal(p: string): Change {
  return { action: "rm", path: p, allowNotFound: true, ...(/[*?[]/.test(p) ? { wildcard: true as const } : {}) };
}
