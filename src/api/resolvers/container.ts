/** Container: configuration changes are pure; leaves solve the recipe. */
import * as path from "node:path";
import { type CacheSharingMode, type Container, fromAddress, splitEnv, withExec } from "../../core/container.js";
import { changeAt, locate, underMount } from "../../core/container-paths.js";
import { execResult, syncContainer } from "../../core/evaluate.js";
import { type Change, changeFs, removal } from "../../core/filesystem.js";
import { encodeId } from "../../core/ids.js";
import { existingDirectory, existingFile, pathExists, statPath } from "../../core/path-lookups.js";
import type { Service } from "../../core/service.js";
import type { RequestContext } from "../../core/types.js";
import { type CacheVolume, Directory, File, NamedValue, Port } from "../../core/values.js";
import { InvalidArgumentError } from "../../errors.js";
import { loadObject } from "../objects.js";
import { type Args, bool, containerPath, expand, optInt, optStr, permissions, str, strList } from "./args.js";
import { copyDirectory, copyFile } from "./directory.js";

function exec(c: Container, a: Args): Container {
  let args = strList(a, "args").map((x) => expand(c, a, x));
  if (args.length === 0) args = c.state.defaultArgs;
  if (bool(a, "useEntrypoint")) args = [...c.state.entrypoint, ...args];
  if (args.length === 0) throw new InvalidArgumentError("withExec needs a command: args is empty and the container has no default args");
  const stdin = optStr(a, "stdin");
  // With `expand`, the redirect paths are expanded too (as Dagger does).
  const redirect = (k: string): string | undefined => {
    const p = optStr(a, k);
    return p ? expand(c, a, p) : undefined;
  };
  const redirectStdin = redirect("redirectStdin");
  const redirectStdout = redirect("redirectStdout");
  const redirectStderr = redirect("redirectStderr");
  return withExec(c, {
    args,
    expect: (optStr(a, "expect") ?? "SUCCESS") as "SUCCESS" | "FAILURE" | "ANY",
    ...(stdin ? { stdin } : {}),
    ...(redirectStdout ? { redirectStdout } : {}),
    ...(redirectStderr ? { redirectStderr } : {}),
    ...(redirectStdin ? { redirectStdin } : {}),
    ...(bool(a, "noInit") ? { noInit: true } : {}),
    ...(bool(a, "insecureRootCapabilities") ? { insecureRootCapabilities: true } : {}),
    ...(bool(a, "experimentalPrivilegedNesting") ? { nesting: {} } : {}),
  });
}

function changeRootfs(c: Container, changes: Change[], name: string): Container {
  return c.with({ rootfs: changeFs(c.state.rootfs, changes, name) });
}

export const containerResolvers = {
  id: (c: Container) => encodeId(c),
  sync: async (c: Container, _a: Args, ctx: RequestContext) => {
    await syncContainer(ctx, c);
    return encodeId(c);
  },
  from: (c: Container, a: Args, ctx: RequestContext) => {
    const svc = optStr(a, "registryService");
    return fromAddress(c, str(a, "address"), ctx, svc === undefined ? undefined : (loadObject(svc, "Service") as Service));
  },
  platform: (c: Container) => c.state.platform,
  imageRef: (c: Container) => {
    if (!c.state.imageRef) throw new InvalidArgumentError("container has no image reference: it was not created with from()");
    return c.state.imageRef;
  },
  rootfs: (c: Container) => new Directory(c.state.rootfs, "/"),
  withRootfs: (c: Container, a: Args) => {
    const d = loadObject(str(a, "directory"), "Directory") as Directory;
    const rootfs = d.path === "/" ? d.source : changeFs(undefined, [{ action: "copy", from: d, dest: "/" }], "withRootfs");
    return c.with({ rootfs, lastExec: undefined });
  },
  withExec: (c: Container, a: Args) => exec(c, a),
  stdout: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).stdout,
  stderr: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).stderr,
  combinedOutput: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).combined,
  exitCode: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).exitCode,

  withEnvVariable: (c: Container, a: Args) => c.withEnvVariable(str(a, "name"), expand(c, a, str(a, "value"))),
  withoutEnvVariable: (c: Container, a: Args) => c.withoutEnvVariable(str(a, "name")),
  envVariable: (c: Container, a: Args) => c.envVariable(str(a, "name")) ?? null,
  envVariables: (c: Container) => c.state.env.map((e) => new NamedValue("EnvVariable", ...splitEnv(e))),
  withWorkdir: (c: Container, a: Args) => c.withWorkdir(expand(c, a, str(a, "path"))),
  withoutWorkdir: (c: Container) => c.with({ workdir: "" }),
  workdir: (c: Container) => c.state.workdir || "/",
  withUser: (c: Container, a: Args) => c.with({ user: str(a, "name") }),
  withoutUser: (c: Container) => c.with({ user: "" }),
  user: (c: Container) => c.state.user,
  withEntrypoint: (c: Container, a: Args) => c.with({ entrypoint: strList(a, "args"), ...(bool(a, "keepDefaultArgs") ? {} : { defaultArgs: [] }) }),
  withoutEntrypoint: (c: Container, a: Args) => c.with({ entrypoint: [], ...(bool(a, "keepDefaultArgs") ? {} : { defaultArgs: [] }) }),
  entrypoint: (c: Container) => c.state.entrypoint,
  withDefaultArgs: (c: Container, a: Args) => c.with({ defaultArgs: strList(a, "args") }),
  withoutDefaultArgs: (c: Container) => c.with({ defaultArgs: [] }),
  defaultArgs: (c: Container) => c.state.defaultArgs,
  withLabel: (c: Container, a: Args) => c.withLabel(str(a, "name"), str(a, "value")),
  withoutLabel: (c: Container, a: Args) => c.withoutLabel(str(a, "name")),
  label: (c: Container, a: Args) => c.state.labels.find(([k]) => k === str(a, "name"))?.[1] ?? null,
  labels: (c: Container) => c.state.labels.map(([k, v]) => new NamedValue("Label", k, v)),
  withExposedPort: (c: Container, a: Args) => {
    const description = optStr(a, "description");
    return c.withExposedPort({
      port: optInt(a, "port") ?? 0,
      protocol: (optStr(a, "protocol") ?? "TCP") as "TCP" | "UDP",
      ...(description ? { description } : {}),
      ...(bool(a, "experimentalSkipHealthcheck") ? { skipHealthcheck: true } : {}),
    });
  },
  withoutExposedPort: (c: Container, a: Args) => c.withoutExposedPort(optInt(a, "port") ?? 0, (optStr(a, "protocol") ?? "TCP") as "TCP" | "UDP"),
  exposedPorts: (c: Container) => c.state.exposedPorts.map((p) => new Port(p.port, p.protocol, p.description, p.skipHealthcheck === true)),

  withMountedCache: (c: Container, a: Args) => {
    const cache = loadObject(str(a, "cache"), "CacheVolume") as CacheVolume;
    // The mount's arguments, else the volume's own defaults.
    const owner = optStr(a, "owner") ?? cache.defaults.owner;
    const sourceId = optStr(a, "source");
    const source = sourceId ? (loadObject(sourceId, "Directory") as Directory) : cache.defaults.source;
    return c.withMount({
      target: containerPath(c, a),
      type: "cache",
      key: cache.key,
      sharing: (optStr(a, "sharing") ?? cache.defaults.sharing ?? "SHARED") as CacheSharingMode,
      ...(owner ? { owner } : {}),
      ...(source ? { from: { source: source.source, path: source.path } } : {}),
    });
  },
  withMountedTemp: (c: Container, a: Args) => {
    const size = optInt(a, "size");
    return c.withMount({ target: containerPath(c, a), type: "tmpfs", ...(size !== undefined ? { size } : {}) });
  },
  withMountedDirectory: (c: Container, a: Args) => {
    let d = loadObject(str(a, "source"), "Directory") as Directory;
    const owner = optStr(a, "owner");
    // An owner means a chowned copy: mounts are never changed in place.
    if (owner) d = new Directory(changeFs(undefined, [{ action: "copy", from: d, dest: "/", owner }], "chown mount"), "/");
    return c.withMount({ target: containerPath(c, a), type: "dir", source: d.source, path: d.path, readOnly: bool(a, "readOnly") });
  },
  withMountedFile: (c: Container, a: Args) => {
    let f = loadObject(str(a, "source"), "File") as File;
    const owner = optStr(a, "owner");
    if (owner) {
      const dest = "/" + path.posix.basename(f.path);
      f = new File(changeFs(undefined, [{ action: "copy", from: f, dest, owner }], "chown mount"), dest);
    }
    return c.withMount({ target: containerPath(c, a), type: "file", source: f.source, path: f.path, readOnly: true });
  },
  withoutMount: (c: Container, a: Args) => c.withoutMount(expand(c, a, str(a, "path"))),
  mounts: (c: Container) => c.state.mounts.map((m) => m.target),

  // Paths under a mounted directory change that directory (changeAt), as in Dagger.
  withNewFile: (c: Container, a: Args) => {
    const p = containerPath(c, a);
    const owner = optStr(a, "owner");
    const contents = optStr(a, "contents") ?? "";
    return changeAt(
      c,
      p,
      (at) => [{ action: "mkfile", path: at, contents, permissions: permissions(a, 0o644), ...(owner ? { owner } : {}) }],
      `withNewFile ${p}`,
    );
  },
  withDirectory: (c: Container, a: Args) => {
    const p = containerPath(c, a);
    const source = loadObject(str(a, "source"), "Directory") as Directory;
    return changeAt(c, p, (at) => [copyDirectory(source, at, a)], `withDirectory ${p}`);
  },
  withFile: (c: Container, a: Args) => {
    const p = containerPath(c, a);
    const source = loadObject(str(a, "source"), "File") as File;
    return changeAt(c, p, (at) => [copyFile(source, at, a)], `withFile ${p}`);
  },
  withFiles: (c: Container, a: Args) => {
    const dir = containerPath(c, a);
    const files = strList(a, "sources").map((id) => loadObject(id, "File") as File);
    return changeAt(c, dir, (at) => files.map((f) => copyFile(f, path.posix.join(at, path.posix.basename(f.path)), a)), `withFiles ${dir}`);
  },
  withoutFile: (c: Container, a: Args) => {
    const p = containerPath(c, a);
    return changeAt(c, p, (at) => [removal(at)], `withoutFile ${p}`);
  },
  withoutFiles: (c: Container, a: Args) => {
    const paths = strList(a, "paths").map((p) => c.absPath(expand(c, a, p)));
    if (paths.every((p) => !underMount(c, p))) return changeRootfs(c, paths.map(removal), `withoutFiles ${paths.join(" ")}`);
    return paths.reduce((acc, p) => changeAt(acc, p, (at) => [removal(at)], `withoutFiles ${p}`), c);
  },
  withoutDirectory: (c: Container, a: Args) => {
    const p = containerPath(c, a);
    return changeAt(c, p, (at) => [removal(at)], `withoutDirectory ${p}`);
  },
  withSymlink: (c: Container, a: Args) => {
    const link = containerPath(c, a, "linkName");
    const target = expand(c, a, str(a, "target"));
    return changeAt(c, link, (at) => [{ action: "symlink", target, link: at }], `withSymlink ${link}`);
  },
  file: (c: Container, a: Args, ctx: RequestContext) => {
    const at = locate(c, containerPath(c, a));
    return existingFile(ctx, at.source, at.path);
  },
  directory: (c: Container, a: Args, ctx: RequestContext) => {
    const at = locate(c, containerPath(c, a));
    return existingDirectory(ctx, at.source, at.path);
  },
  exists: (c: Container, a: Args, ctx: RequestContext) => {
    const at = locate(c, containerPath(c, a));
    return pathExists(ctx, at.source, at.path, !bool(a, "doNotFollowSymlinks"), optStr(a, "expectedType"));
  },
  stat: (c: Container, a: Args, ctx: RequestContext) => {
    const at = locate(c, containerPath(c, a));
    return statPath(ctx, new Directory(at.source, "/"), at.path, !bool(a, "doNotFollowSymlinks"));
  },
};
