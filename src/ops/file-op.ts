/**
 * File ops: changes to a filesystem that need no container (withNewFile,
 * withDirectory, withoutFile, withSymlink…). One op applies a list of
 * actions: it prepares a snapshot on its base input, mounts it, applies each
 * action with chroot-style path resolution, and commits. Actions that copy
 * read from the other inputs through read-only views.
 *
 *   inputs: [base?, ...sources]   (op.base says whether the first is the base)
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { NotFoundError } from "../errors.js";
import { resolveUser } from "../executor/user.js";
import { copyPath } from "../fsutil/copy.js";
import { gitignoreExcludes } from "../fsutil/gitignore.js";
import { globToRegExp } from "../fsutil/glob.js";
import { mkdirInRoot, resolveInRoot } from "../fsutil/in-root.js";
import { PathFilter } from "../fsutil/path-filter.js";
import { withMounted } from "../mount/mount.js";
import { digestHex } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { withSnapshotView } from "../snapshots/view.js";
import type { ContentInput, OpRunner, Result, Vertex } from "../solver/types.js";

export type FileAction =
  | { action: "mkfile"; path: string; contents: string; permissions: number; owner?: string }
  | { action: "mkdir"; path: string; permissions: number; owner?: string }
  | {
      action: "copy";
      /** Index into the op's source inputs (after the base). */
      source: number;
      src: string;
      dest: string;
      include?: string[];
      exclude?: string[];
      owner?: string;
      permissions?: number;
      /** Apply the .gitignore files of the copied tree. */
      gitignore?: boolean;
    }
  /** `wildcard`: `*`, `?` and `[…]` in the path's components match entries (as BuildKit's AllowWildcard). */
  | { action: "rm"; path: string; allowNotFound: boolean; wildcard?: true }
  /** What `upper` has that `lower` lacks or has otherwise (sources by index; -1 is the empty filesystem). */
  | { action: "diff"; lower: number; lowerPath: string; upper: number; upperPath: string; dest: string }
  | { action: "symlink"; target: string; link: string }
  | { action: "timestamps"; path: string; time: number };

export interface FileOp {
  kind: "file";
  base: boolean;
  actions: FileAction[];
}

export class FileOpRunner implements OpRunner {
  readonly kind = "file";
  readonly cacheable = true;

  constructor(private readonly deps: { snapshots: OverlaySnapshotter; runDir: string }) {}

  /**
   * The sources key the cache by the content of what is read from them: a
   * copy's source path, a diff's two sides. Sources are read by nothing
   * else, so an equal tree made by another recipe gives the same result.
   */
  contentInputs(v: Vertex): ContentInput[] {
    const op = v.op as unknown as FileOp;
    const first = op.base ? 1 : 0;
    return op.actions.flatMap((a): ContentInput[] => {
      if (a.action === "copy") return [{ input: first + a.source, path: a.src }];
      if (a.action !== "diff") return [];
      return [...(a.lower < 0 ? [] : [{ input: first + a.lower, path: a.lowerPath }]), ...(a.upper < 0 ? [] : [{ input: first + a.upper, path: a.upperPath }])];
    });
  }

  async run(v: Vertex, inputs: readonly Result[]): Promise<Result> {
    const op = v.op as unknown as FileOp;
    const { snapshots } = this.deps;
    const baseName = op.base ? inputs[0]?.snapshot : undefined;
    const sources = op.base ? inputs.slice(1) : inputs;
    const active = await snapshots.prepare(baseName === undefined ? undefined : snapshots.get(baseName));
    try {
      const target = path.join(this.deps.runDir, `file-${randomBytes(6).toString("hex")}`);
      await withMounted(snapshots.mounts(active), target, async (root) => {
        for (const action of op.actions) await this.#apply(root, action, sources);
      });
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    }
    const committed = await snapshots.commit(active, `file/${digestHex(v.digest)}`);
    return { snapshot: committed.name, meta: {} };
  }

  async #apply(root: string, a: FileAction, sources: readonly Result[]): Promise<void> {
    switch (a.action) {
      case "mkfile": {
        await mkdirInRoot(root, path.posix.dirname(a.path));
        const host = await resolveInRoot(root, a.path);
        await fs.rm(host, { force: true });
        await fs.writeFile(host, a.contents, { mode: a.permissions });
        await fs.chmod(host, a.permissions);
        if (a.owner) await chownTo(root, host, a.owner);
        return;
      }
      case "mkdir": {
        const host = await mkdirInRoot(root, a.path, a.permissions);
        if (a.owner) await chownTo(root, host, a.owner);
        return;
      }
      case "copy": {
        const snapshotName = sources[a.source]?.snapshot;
        const snapshot = snapshotName === undefined ? undefined : this.deps.snapshots.get(snapshotName);
        const owner = a.owner ? await resolveUser(a.owner, root) : undefined;
        await withSnapshotView(this.deps.snapshots, snapshot, this.deps.runDir, async (src) => {
          const ignored = a.gitignore ? await gitignoreExcludes(await resolveInRoot(src, a.src, { followLast: true })).catch(() => []) : [];
          const exclude = [...(a.exclude ?? []), ...ignored];
          const filter = new PathFilter({ ...(a.include ? { include: a.include } : {}), ...(exclude.length ? { exclude } : {}) });
          await copyPath(src, a.src, root, a.dest, {
            ...(filter.isEmpty ? {} : { filter }),
            ...(owner ? { owner: { uid: owner.uid, gid: owner.gid } } : {}),
            ...(a.permissions !== undefined ? { permissions: a.permissions } : {}),
          });
        });
        return;
      }
      case "diff": {
        const view = (i: number) => {
          const name = i < 0 ? undefined : sources[i]?.snapshot;
          return name === undefined ? undefined : this.deps.snapshots.get(name);
        };
        await withSnapshotView(this.deps.snapshots, view(a.lower), this.deps.runDir, (lowerRoot) =>
          withSnapshotView(this.deps.snapshots, view(a.upper), this.deps.runDir, async (upperRoot) => {
            const lower = await resolveInRoot(lowerRoot, a.lowerPath, { followLast: true });
            const upper = await resolveInRoot(upperRoot, a.upperPath, { followLast: true });
            for (const rel of await changedPaths(lower, upper)) {
              await copyPath(upperRoot, path.posix.join(a.upperPath, rel), root, path.posix.join(a.dest, rel));
            }
          }),
        );
        return;
      }
      case "rm": {
        if (a.wildcard) {
          const found = await matchInRoot(root, a.path);
          if (found.length === 0 && !a.allowNotFound) throw new NotFoundError(`"${a.path}" matches nothing`);
          for (const p of found) await fs.rm(await resolveInRoot(root, p), { recursive: true, force: true });
          return;
        }
        const host = await resolveInRoot(root, a.path);
        try {
          await fs.lstat(host);
        } catch {
          if (a.allowNotFound) return;
          throw new NotFoundError(`lstat ${a.path}: no such file or directory`);
        }
        await fs.rm(host, { recursive: true, force: true });
        return;
      }
      case "symlink": {
        await mkdirInRoot(root, path.posix.dirname(a.link));
        const host = await resolveInRoot(root, a.link);
        await fs.rm(host, { force: true });
        await fs.symlink(a.target, host);
        return;
      }
      case "timestamps": {
        const host = await resolveInRoot(root, a.path, { followLast: true });
        await setTimesRecursively(host, new Date(a.time * 1000));
        return;
      }
    }
  }
}

/** The paths (absolute, in `root`) that a wildcard path names; its pattern components match one entry name each. */
async function matchInRoot(root: string, pattern: string): Promise<string[]> {
  let found = ["/"];
  for (const part of pattern.split("/").filter((x) => x !== "" && x !== ".")) {
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        next.push(path.posix.join(dir, part));
        continue;
      }
      const re = globToRegExp(part);
      const names = await fs.readdir(await resolveInRoot(root, dir, { followLast: true })).catch(() => [] as string[]);
      for (const name of names.sort()) if (re.test(name)) next.push(path.posix.join(dir, name));
    }
    found = next;
  }
  const out: string[] = [];
  for (const p of found)
    if (
      await fs.lstat(await resolveInRoot(root, p)).then(
        () => true,
        () => false,
      )
    )
      out.push(p);
  return out;
}

async function chownTo(root: string, host: string, owner: string): Promise<void> {
  const { uid, gid } = await resolveUser(owner, root);
  await fs.lchown(host, uid, gid);
}

async function setTimesRecursively(p: string, time: Date): Promise<void> {
  const st = await fs.lstat(p);
  if (st.isDirectory()) for (const name of await fs.readdir(p)) await setTimesRecursively(path.join(p, name), time);
  await fs.lutimes(p, time, time);
}

/**
 * Paths under `upper` (relative, shallowest first) that `lower` lacks or has
 * with another type, mode, owner, size, content or link target. A new
 * directory is one path (copied whole); an existing one is walked.
 */
export async function changedPaths(lower: string, upper: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(upper, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const u = await fs.lstat(path.join(upper, r));
      const l = await fs.lstat(path.join(lower, r)).catch(() => undefined);
      const sameMeta = l !== undefined && u.mode === l.mode && u.uid === l.uid && u.gid === l.gid;
      if (u.isDirectory()) {
        if (!l?.isDirectory()) out.push(r);
        else {
          if (!sameMeta) out.push(r);
          await walk(r);
        }
      } else if (!sameMeta || u.size !== l.size || !(await sameContent(path.join(upper, r), path.join(lower, r), u))) {
        out.push(r);
      }
    }
  };
  await walk("");
  // A directory already listed carries everything below it.
  return out.filter((p) => !out.some((q) => q !== p && p.startsWith(q + "/")));
}

async function sameContent(a: string, b: string, st: import("node:fs").Stats): Promise<boolean> {
  if (st.isSymbolicLink()) return (await fs.readlink(a)) === (await fs.readlink(b));
  if (!st.isFile()) return true;
  const [x, y] = await Promise.all([fs.readFile(a), fs.readFile(b)]);
  return x.equals(y);
}
