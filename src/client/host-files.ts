/**
 * The client's side of the engine's file calls: list a directory tree, send
 * files, write exports. Relative paths resolve against the session's workdir;
 * an export may not climb out of it (absolute paths are the caller's choice),
 * while reads go where the path leads, as Dagger's do (`../dep`).
 */

import { closeSync, constants, createReadStream, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { applyLayer } from "../archive/apply-layer.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { gitignorePatterns } from "../fsutil/gitignore.js";
import { PathFilter } from "../fsutil/path-filter.js";
import type { HostEntry, ReadFilesParams, StatTreeParams, StatTreeResult, WriteParams } from "../http/session-protocol.js";

export function resolveClientPath(workdir: string, p: string, opts: { allowOutside?: boolean } = {}): string {
  // `~` is the client user's home, as a shell would read it.
  if (p === "~" || p.startsWith("~/")) return path.join(os.homedir(), p.slice(1));
  if (path.isAbsolute(p)) return path.normalize(p);
  const abs = path.resolve(workdir, p);
  if (!opts.allowOutside && abs !== workdir && !abs.startsWith(workdir + path.sep)) {
    throw new InvalidArgumentError(`path "${p}" is outside the session's working directory ${workdir}`);
  }
  return abs;
}

export async function statTree(workdir: string, params: StatTreeParams): Promise<StatTreeResult> {
  const root = resolveClientPath(workdir, params.path, { allowOutside: true });
  let st: import("node:fs").Stats;
  try {
    st = await fs.stat(root);
  } catch {
    throw new NotFoundError(`"${params.path}" not found on the client (${root})`);
  }
  if (!st.isDirectory()) {
    const e = await entryOf(path.dirname(root), path.basename(root));
    return { root, kind: "file", entries: e ? [e] : [] };
  }
  const entries: HostEntry[] = [];
  const excludes = [...params.exclude];
  const depth = params.depth ?? Number.POSITIVE_INFINITY;
  const walk = async (rel: string, level: number): Promise<void> => {
    const dir = path.join(root, rel);
    if (params.gitignore) {
      const text = await fs.readFile(path.join(dir, ".gitignore"), "utf8").catch(() => undefined);
      if (text !== undefined) excludes.push(...gitignorePatterns(text, rel));
    }
    const filter = new PathFilter({ include: params.include, exclude: excludes });
    for (const name of readdirSync(dir).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const e = entryOfSync(root, childRel);
      if (!e) continue;
      if (e.type === "dir") {
        if (!filter.mayDescend(childRel)) continue;
        const before = entries.length;
        entries.push(e);
        if (level + 1 < depth) await walk(childRel, level + 1);
        // With include patterns, keep a directory only if it or something in it is selected.
        if (!filter.selects(childRel) && entries.length === before + 1) entries.pop();
      } else if (filter.selects(childRel)) entries.push(e);
    }
  };
  await walk("", 0);
  return { root, kind: "dir", entries };
}

/**
 * entryOf with synchronous calls: a listing makes one lstat per entry, and a
 * round trip through the thread pool for each cost more than the call itself.
 */
function entryOfSync(root: string, rel: string): HostEntry | undefined {
  const st = lstatSync(path.join(root, rel), { bigint: true, throwIfNoEntry: false });
  if (!st) return undefined; // gone while the tree was listed
  const base = { path: rel, mode: Number(st.mode & 0o7777n), size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
  if (st.isDirectory()) return { ...base, type: "dir", size: 0 };
  if (st.isFile()) return { ...base, type: "file" };
  if (st.isSymbolicLink()) return { ...base, type: "symlink", target: readlinkSync(path.join(root, rel)) };
  return undefined; // sockets, devices, fifos are not sent
}

async function entryOf(root: string, rel: string): Promise<HostEntry | undefined> {
  const st = await fs.lstat(path.join(root, rel), { bigint: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined; // gone while the tree was listed
    throw err;
  });
  if (!st) return undefined;
  const base = { path: rel, mode: Number(st.mode & 0o7777n), size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
  if (st.isDirectory()) return { ...base, type: "dir", size: 0 };
  if (st.isFile()) return { ...base, type: "file" };
  if (st.isSymbolicLink()) return { ...base, type: "symlink", target: await fs.readlink(path.join(root, rel)) };
  return undefined; // sockets, devices, fifos are not sent
}

/**
 * Host.findUp: the nearest `name` in `workdir` or one of its parents, as a
 * path relative to `workdir` (`../../go.mod`); null when no directory up to
 * the root holds one. A dangling symlink named `name` counts: it is there.
 */
export async function findUp(workdir: string, name: string): Promise<string | null> {
  if (name === "" || name.includes("\0") || path.isAbsolute(name) || name.split("/").includes(".."))
    throw new InvalidArgumentError(`findUp: name must be a relative name without "..", got ${JSON.stringify(name)}`);
  for (let dir = workdir; ; dir = path.dirname(dir)) {
    const found = path.join(dir, name);
    if (
      await fs.lstat(found).then(
        () => true,
        () => false,
      )
    )
      return path.relative(workdir, found);
    if (path.dirname(dir) === dir) return null;
  }
}

/** Files up to this size are read in one call and sent from memory; larger ones are streamed. */
const SMALL_FILE = 1 << 20;

/** A tar stream of the regular files `files` below `root`. */
export function readFiles(params: ReadFilesParams): Readable {
  const pack = tar.pack();
  const add = (header: Parameters<typeof pack.entry>[0], data: Buffer): Promise<void> =>
    // The callback comes once the pack has room again: memory stays bounded.
    new Promise<void>((resolve, reject) => pack.entry(header, data, (err) => (err ? reject(err) : resolve())));
  (async () => {
    for (const rel of params.files) {
      const file = path.join(params.root, rel);
      if (!file.startsWith(params.root + path.sep)) throw new InvalidArgumentError(`"${rel}" is outside ${params.root}`);
      const st = lstatSync(file);
      if (!st.isFile()) throw new InvalidArgumentError(`"${rel}" is no longer a regular file`);
      const header = { name: rel, size: st.size, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.size <= SMALL_FILE) {
        const data = readSmallFile(file, st.size);
        // A file that changed size since its lstat is sent as it is now.
        await add({ ...header, size: data.length }, data);
        continue;
      }
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        const src = createReadStream(file);
        src.on("error", reject);
        // The engine hanging up destroys the pack and its entry: close the file.
        entry.on("error", (err: Error) => {
          src.destroy();
          reject(err);
        });
        src.pipe(entry);
      });
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return Readable.from(pack, { objectMode: false });
}

/** A small file's bytes, read with one open, a read or two and a close (never following a symlink put in its place). */
function readSmallFile(file: string, size: number): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n <= size) return buf.subarray(0, n);
    // Grew since the lstat: read the rest as it is.
    return Buffer.concat([buf.subarray(0, n), readFileSync(fd)]);
  } finally {
    closeSync(fd);
  }
}

/** Write an export: a directory's tree, or one file. Returns the path written. */
export async function writeExport(workdir: string, params: WriteParams, input: Readable): Promise<string> {
  let dest = resolveClientPath(workdir, params.path);
  if (params.kind === "dir") {
    await checkAncestors(params.path, path.dirname(dest));
    if (params.wipe) await fs.rm(dest, { recursive: true, force: true });
    await mkdirFor(params.path, dest);
    await applyLayer(input, dest, params.deletions ? { whiteouts: "delete" } : {});
    return dest;
  }
  await checkAncestors(params.path, path.dirname(dest));
  const existing = await fs.stat(dest).catch(() => undefined);
  if (existing?.isDirectory()) {
    if (!params.allowParentDirPath)
      throw new InvalidArgumentError(`cannot export a file to "${params.path}": it is a directory (set allowParentDirPath to write into it)`);
  }
  // Unpack into a scratch directory beside the target, then move the one file into place.
  const parent = existing?.isDirectory() ? dest : path.dirname(dest);
  await mkdirFor(params.path, parent);
  const scratch = await fs.mkdtemp(path.join(parent, ".tanto-export-"));
  try {
    await applyLayer(input, scratch);
    const [name] = await fs.readdir(scratch);
    if (!name) throw new InvalidArgumentError("export carried no file");
    if (existing?.isDirectory()) dest = path.join(dest, name);
    await fs.rename(path.join(scratch, name), dest);
    return dest;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** An export cannot go below something that is not a directory: say which. */
async function checkAncestors(requested: string, dir: string): Promise<void> {
  for (let at = dir; ; at = path.dirname(at)) {
    const st = await fs.stat(at).catch(() => undefined);
    if (st?.isDirectory()) return;
    if (st) throw new InvalidArgumentError(`cannot export to "${requested}": ${at} is not a directory`);
    if (path.dirname(at) === at) return;
  }
}

async function mkdirFor(requested: string, dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") throw new InvalidArgumentError(`cannot export to "${requested}": ${dir} is not a directory`);
    throw err;
  }
}
