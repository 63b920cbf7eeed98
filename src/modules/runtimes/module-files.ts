/**
 * Reading a module's own files, as every SDK runtime does before it writes
 * its generated files or builds its container: the source directory (the
 * context directory at the source subpath) and a file in it that may be
 * missing (package.json, pyproject.toml, …).
 */
import * as path from "node:path";
import { readFileAt } from "../../core/evaluate.js";
import type { RequestContext } from "../../core/types.js";
import { Directory } from "../../core/values.js";
import { NotFoundError } from "../../errors.js";
import type { ModuleInfo } from "./types.js";

/** The module's source directory (the context directory at the source subpath). */
export function sourceDir(mod: ModuleInfo): Directory {
  return new Directory(mod.contextDirectory.source, path.posix.join(mod.contextDirectory.path, mod.sourceSubpath || "."));
}

/** The text of `file` under `dir`, or undefined when there is no such file. */
export async function readOptional(ctx: RequestContext, dir: Directory, file: string): Promise<string | undefined> {
  try {
    return (await readFileAt(ctx, dir.source, path.posix.join(dir.path, file))).toString("utf8");
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
