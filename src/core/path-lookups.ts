/**
 * Looking a path up in a Directory's or File's tree, with Dagger's wording
 * where clients match on it: `file(path)` and `directory(path)` check the
 * path at once, so a missing one fails where it is named, not in whatever
 * uses it later; `stat` and `contents` with its line window.
 */
import * as path from "node:path";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { readFileAt, statAt } from "./evaluate.js";
import type { RequestContext } from "./types.js";
import { Directory, File, Stat } from "./values.js";

const missing = (p: string): NotFoundError => new NotFoundError(`lstat ${p}: no such file or directory`);

export async function existingFile(ctx: RequestContext, source: Directory["source"], p: string): Promise<File> {
  const st = await statAt(ctx, source, p);
  if (!st) throw missing(p);
  if (st.type === "DIRECTORY") throw new FailedPreconditionError(`path ${p} is a directory, not a file`);
  return new File(source, p);
}

export async function existingDirectory(ctx: RequestContext, source: Directory["source"], p: string): Promise<Directory> {
  const st = await statAt(ctx, source, p);
  if (!st) throw missing(p);
  if (st.type !== "DIRECTORY") throw new FailedPreconditionError(`path ${p} is a file, not a directory`);
  return new Directory(source, p);
}

/** Whether `p` exists (and is of `expectedType`, "FILE_TYPE"/"DIRECTORY_TYPE"/"SYMLINK_TYPE", when given); only a missing path is false. */
export async function pathExists(ctx: RequestContext, source: Directory["source"], p: string, follow: boolean, expectedType?: string): Promise<boolean> {
  const st = await statAt(ctx, source, p, follow);
  return st !== undefined && (expectedType === undefined || `${st.type}_TYPE` === expectedType);
}

export async function statPath(ctx: RequestContext, src: Directory | File, p: string, follow: boolean): Promise<Stat> {
  const st = await statAt(ctx, src.source, p, follow);
  if (!st) throw missing(p);
  return new Stat(path.posix.basename(p) || "/", st.type, st.mode & 0o7777, st.size);
}

/** The file's text, or the `limit` lines (all when undefined) from line `offset` (0-based), each with its newline. */
export async function fileContents(ctx: RequestContext, f: File, offset = 0, limit?: number): Promise<string> {
  if (offset < 0 || (limit !== undefined && limit < 0)) throw new InvalidArgumentError("offsetLines and limitLines must not be negative");
  const text = (await readFileAt(ctx, f.source, f.path)).toString("utf8");
  if (!offset && limit === undefined) return text;
  const lines = text.split(/(?<=\n)/);
  return lines.slice(offset, limit === undefined ? undefined : offset + limit).join("");
}
