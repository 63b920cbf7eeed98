/**
 * File ops: changes to a filesystem that need no container (withNewFile and
 * friends). Each mounts a new active snapshot on its input, changes it with
 * chroot-style path resolution, and commits it.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { resolveUser } from "../executor/user.js";
import { mkdirInRoot, resolveInRoot } from "../fsutil/in-root.js";
import { withMounted } from "../mount/mount.js";
import { digestHex } from "../oci/digest.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { OpRunner, Result, Vertex } from "../solver/types.js";

export type FileAction = { action: "mkfile"; path: string; contents: string; permissions: number; owner?: string };

export class FileOpRunner implements OpRunner {
  readonly kind = "file";
  readonly cacheable = true;

  constructor(private readonly deps: { snapshots: OverlaySnapshotter; runDir: string }) {}

  async run(v: Vertex, inputs: readonly Result[]): Promise<Result> {
    const op = v.op as unknown as { kind: "file"; actions: FileAction[] };
    const { snapshots } = this.deps;
    const parentName = inputs[0]?.snapshot;
    const active = await snapshots.prepare(parentName === undefined ? undefined : snapshots.get(parentName));
    try {
      const target = path.join(this.deps.runDir, `file-${randomBytes(6).toString("hex")}`);
      await withMounted(snapshots.mounts(active), target, async (root) => {
        for (const action of op.actions) await apply(root, action);
      });
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    }
    const committed = await snapshots.commit(active, `file/${digestHex(v.digest)}`);
    return { snapshot: committed.name, meta: {} };
  }
}

async function apply(root: string, a: FileAction): Promise<void> {
  await mkdirInRoot(root, path.posix.dirname(a.path));
  const host = await resolveInRoot(root, a.path);
  await fs.rm(host, { force: true, recursive: false }).catch(() => undefined);
  await fs.writeFile(host, a.contents, { mode: a.permissions });
  await fs.chmod(host, a.permissions);
  if (a.owner) {
    const { uid, gid } = await resolveUser(a.owner, root);
    await fs.lchown(host, uid, gid);
  }
}
