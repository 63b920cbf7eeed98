/**
 * Heredocs of a Dockerfile build (parsed in src/dockerfile/heredoc.ts): the
 * script file a `RUN <<EOF` starting with `#!` runs, and the files `COPY
 * <<EOF /dest` writes, as BuildKit makes them.
 */
import * as path from "node:path";
import type { HeredocFile, HeredocScript } from "../dockerfile/parser.js";
import type { ContainerMount } from "./container.js";
import { type Change, changeFs } from "./filesystem.js";

/** Where BuildKit mounts a heredoc script (read-only) to run it. */
const PIPES = "/dev/pipes";

/** A `#!` heredoc as an executable file in a read-only mount, and the command that runs it. */
export function scriptRun(script: HeredocScript): { argv: string[]; mount: ContainerMount } {
  const name = path.posix.basename(script.name);
  const dir = changeFs(undefined, [{ action: "mkfile", path: `/${name}`, contents: script.data, permissions: 0o755 }], `heredoc <<${name}`);
  return { argv: [`${PIPES}/${name}`], mount: { target: PIPES, type: "dir", source: dir, path: "/", readOnly: true } };
}

/**
 * COPY/ADD heredoc sources as files: at `dest` itself, or named by their
 * delimiter inside it when it is a directory. Mode 0644 unless --chmod.
 */
export function heredocFiles(
  contents: readonly HeredocFile[],
  dest: string,
  intoDir: boolean,
  expand: (file: HeredocFile) => string,
  extra: { owner?: string; permissions?: number },
): Change[] {
  return contents.map((file) => ({
    action: "mkfile" as const,
    path: intoDir ? path.posix.join(dest, file.name) : dest,
    contents: expand(file),
    permissions: extra.permissions ?? 0o644,
    ...(extra.owner ? { owner: extra.owner } : {}),
  }));
}
