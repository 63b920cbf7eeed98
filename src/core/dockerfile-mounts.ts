/**
 * `RUN --mount` for Dockerfile builds: cache mounts as cache volumes (keyed
 * by id, else target), secrets of `dockerBuild(secrets)` by name, binds of
 * the context, an earlier stage or an image (read-only unless rw), and the
 * `dockerBuild(ssh)` socket (the client's ssh-agent) with SSH_AUTH_SOCK
 * naming the first one, as BuildKit does.
 */
import type { RunMount } from "../dockerfile/run-mounts.js";
import { InvalidArgumentError } from "../errors.js";
import type { ContainerMount } from "./container.js";
import type { Socket } from "./extra-values.js";
import type { FsRef } from "./filesystem.js";
import type { Secret } from "./secrets.js";

/** `RUN --mount` options as container mounts for that RUN; `build` resolves where binds read. */
export async function runMounts<S>(
  build: {
    readonly settings: { readonly secrets?: readonly Secret[] | undefined; readonly ssh?: Socket | undefined };
    bindSource(stage: S, from: string | undefined, expand: (w: string) => string, line: number): Promise<{ root: FsRef; label: string }>;
  },
  stage: S & { readonly from: { readonly line: number } },
  mounts: readonly RunMount[],
  expand: (w: string) => string,
): Promise<{ mounts: ContainerMount[]; env: Array<[string, string]> }> {
  const out: ContainerMount[] = [];
  const env: Array<[string, string]> = [];
  for (const m of mounts) {
    const target = expand(m.target);
    if (!target.startsWith("/")) throw new InvalidArgumentError(`RUN --mount target must be absolute, got ${JSON.stringify(target)}`);
    if (m.type === "cache") {
      out.push({
        target,
        type: "cache",
        key: `dockerfile:${m.id ?? target}`,
        sharing: m.sharing === "locked" ? "LOCKED" : m.sharing === "private" ? "PRIVATE" : "SHARED",
      });
    } else if (m.type === "secret") {
      const secret = build.settings.secrets?.find((s) => s.ref.name === m.id);
      if (!secret) {
        if (m.required) throw new InvalidArgumentError(`RUN --mount=type=secret,id=${m.id}: no such secret given to dockerBuild(secrets)`);
        continue;
      }
      out.push({ target, type: "secret", secret: secret.ref, mode: m.mode });
    } else if (m.type === "ssh") {
      const ssh = build.settings.ssh;
      if (!ssh) {
        if (m.required) throw new InvalidArgumentError(`RUN --mount=type=ssh,id=${m.id}: no socket given to dockerBuild(ssh)`);
        continue;
      }
      out.push({ target, type: "socket", client: ssh.client, path: ssh.path, ...(m.owner ? { owner: m.owner } : {}) });
      if (!env.some(([k]) => k === "SSH_AUTH_SOCK")) env.push(["SSH_AUTH_SOCK", target]);
    } else {
      const { root } = await build.bindSource(stage, m.from === undefined ? undefined : expand(m.from), expand, stage.from.line);
      const source = `/${expand(m.source).replace(/^\/+/, "")}`;
      out.push({
        target,
        type: "dir",
        source: root.source,
        path: source === "/" ? root.path : `${root.path.replace(/\/$/, "")}${source}`,
        readOnly: !m.readWrite,
      });
    }
  }
  return { mounts: out, env };
}
