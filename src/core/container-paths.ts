/**
 * Container paths that fall under a mount: `file`, `directory`, `stat` read
 * them from the mount's source, and file operations (`withNewFile`,
 * `withFile`, `withoutFile`, `withSymlink`…) change the mounted directory
 * instead of the rootfs, as in Dagger.
 */
import * as path from "node:path";
import type { Container, ContainerMount } from "./container.js";
import { type Change, changeFs } from "./filesystem.js";
import type { Directory } from "./values.js";

type DirMount = Extract<ContainerMount, { type: "dir" | "file" }>;

function mountOf(c: Container, p: string): DirMount | undefined {
  let best: DirMount | undefined;
  for (const m of c.state.mounts) {
    if (m.type !== "dir") continue;
    if (p !== m.target && !p.startsWith(`${m.target.replace(/\/+$/, "")}/`)) continue;
    if (!best || m.target.length > best.target.length) best = m;
  }
  return best;
}

/** The mounted directory a container path falls under, if any, and the path inside its source. */
export function underMount(c: Container, p: string): { source: Directory["source"]; path: string } | undefined {
  const m = mountOf(c, p);
  return m ? { source: m.source, path: path.posix.join(m.path, path.posix.relative(m.target, p)) } : undefined;
}

/** Where container path `p` is read from: the source of the mount it falls under, else the rootfs. */
export function locate(c: Container, p: string): { source: Directory["source"]; path: string } {
  return underMount(c, p) ?? { source: c.state.rootfs, path: p };
}

/** Apply `make(at)` at container path `p`: in the rootfs, or in the source of the mount `p` falls under. */
export function changeAt(c: Container, p: string, make: (at: string) => Change[], name: string): Container {
  const m = mountOf(c, p);
  if (!m) return c.with({ rootfs: changeFs(c.state.rootfs, make(p), name) });
  const at = path.posix.join(m.path, path.posix.relative(m.target, p));
  const source = changeFs(m.source, make(at), name);
  return c.with({ mounts: c.state.mounts.map((x) => (x === m ? { ...m, source } : x)) });
}
