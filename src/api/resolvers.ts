/**
 * Resolvers: thin glue from GraphQL arguments to core values and evaluation.
 * Each returns a new immutable value (for `with*` fields) or evaluates a leaf.
 */
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { Container, execVertex, type CacheSharingMode } from "../core/container.js";
import { execResult, globDir, listDir, readFileAt, solve, statAt, syncContainer } from "../core/evaluate.js";
import { encodeId } from "../core/ids.js";
import type { RequestContext } from "../core/types.js";
import { CacheVolume, Directory, File, NamedValue, Port } from "../core/values.js";
import { sha256 } from "../oci/digest.js";
import { formatPlatform, parsePlatform } from "../oci/platform.js";
import { formatReference, parseReference } from "../oci/reference.js";
import { vertex } from "../solver/vertex.js";
import type { Vertex } from "../solver/types.js";
import { loadObject } from "./objects.js";

type Args = Record<string, unknown>;
type Resolver<P> = (parent: P, args: Args, ctx: RequestContext) => unknown;
export type ResolverMap = Record<string, Record<string, Resolver<never>>>;

const str = (a: Args, k: string): string => a[k] as string;
const optStr = (a: Args, k: string): string | undefined => (a[k] === null || a[k] === undefined ? undefined : (a[k] as string));
const bool = (a: Args, k: string): boolean => a[k] === true;

/** `$VAR` and `${VAR}` from the container's environment, when `expand` is set. */
function expand(c: Container, a: Args, value: string): string {
  if (!bool(a, "expand")) return value;
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, b: string | undefined, p: string | undefined) => c.envVariable((b ?? p)!) ?? "");
}

function fileOp(source: Vertex | undefined, actions: unknown[], name: string): Vertex {
  return vertex({ kind: "file", actions }, source ? [source] : [], name);
}

function permissions(a: Args, fallback = 0o644): number {
  const p = a["permissions"];
  if (p === null || p === undefined) return fallback;
  if (typeof p !== "number" || p < 0 || p > 0o7777) throw new InvalidArgumentError(`invalid permissions ${String(p)}: want 0 to 0o7777`);
  return p;
}

async function fromAddress(c: Container, address: string, ctx: RequestContext): Promise<Container> {
  const ref = parseReference(address);
  const platform = parsePlatform(c.state.platform);
  const key = `${formatReference(ref)}|${formatPlatform(platform)}`;
  let resolving = ctx.session.resolved.get(key);
  if (!resolving) {
    resolving = ctx.deps.images.resolve(ref, platform, { signal: ctx.signal });
    ctx.session.resolved.set(key, resolving);
    resolving.catch(() => ctx.session.resolved.delete(key));
  }
  const resolved = await resolving;
  const pinned = formatReference(resolved.ref);
  const image = vertex({ kind: "image", ref: pinned, platform: formatPlatform(platform) }, [], `from ${address}`);
  return c.fromImage(image, pinned, resolved.config);
}

function withExec(c: Container, a: Args): Container {
  let args = (a["args"] as string[]).map((x) => expand(c, a, x));
  if (args.length === 0) args = c.state.defaultArgs;
  if (bool(a, "useEntrypoint")) args = [...c.state.entrypoint, ...args];
  if (args.length === 0) throw new InvalidArgumentError("withExec needs a command: args is empty and the container has no default args");
  const stdin = optStr(a, "stdin");
  const v = execVertex(c, {
    args,
    expect: (optStr(a, "expect") ?? "SUCCESS") as "SUCCESS" | "FAILURE" | "ANY",
    ...(stdin ? { stdin } : {}),
    ...(optStr(a, "redirectStdout") ? { redirectStdout: str(a, "redirectStdout") } : {}),
    ...(optStr(a, "redirectStderr") ? { redirectStderr: str(a, "redirectStderr") } : {}),
    ...(bool(a, "noInit") ? { noInit: true } : {}),
  });
  return c.with({ rootfs: v, lastExec: v });
}

async function exists(ctx: RequestContext, source: Vertex | undefined, p: string, a: Args): Promise<boolean> {
  const st = await statAt(ctx, source, p);
  if (!st) return false;
  const t = optStr(a, "expectedType");
  if (t === "DIRECTORY_TYPE") return st.isDir;
  if (t === "REGULAR_TYPE") return !st.isDir;
  return true;
}

const idOf = (obj: { typename: string; toJSON(): unknown }): string => encodeId(obj);

export const resolvers = {
  Query: {
    version: (_: unknown, _a: Args, ctx: RequestContext) => ctx.deps.version,
    defaultPlatform: (_: unknown, _a: Args, ctx: RequestContext) => ctx.deps.defaultPlatform,
    container: (_: unknown, a: Args, ctx: RequestContext) =>
      Container.empty(formatPlatform(parsePlatform(optStr(a, "platform") ?? ctx.deps.defaultPlatform))),
    directory: () => new Directory(undefined, "/"),
    cacheVolume: (_: unknown, a: Args) => {
      const key = str(a, "key");
      if (key === "") throw new InvalidArgumentError("cacheVolume key must not be empty");
      return new CacheVolume(key);
    },
    node: (_: unknown, a: Args) => loadObject(str(a, "id")),
    loadContainerFromID: (_: unknown, a: Args) => loadObject(str(a, "id"), "Container"),
    loadDirectoryFromID: (_: unknown, a: Args) => loadObject(str(a, "id"), "Directory"),
    loadFileFromID: (_: unknown, a: Args) => loadObject(str(a, "id"), "File"),
    loadCacheVolumeFromID: (_: unknown, a: Args) => loadObject(str(a, "id"), "CacheVolume"),
    loadEnvVariableFromID: (_: unknown, a: Args) => loadObject(str(a, "id"), "EnvVariable"),
    loadLabelFromID: (_: unknown, a: Args) => loadObject(str(a, "id"), "Label"),
    loadPortFromID: (_: unknown, a: Args) => loadObject(str(a, "id"), "Port"),
  },

  Container: {
    id: (c: Container) => idOf(c),
    sync: async (c: Container, _a: Args, ctx: RequestContext) => {
      await syncContainer(ctx, c);
      return idOf(c);
    },
    from: (c: Container, a: Args, ctx: RequestContext) => fromAddress(c, str(a, "address"), ctx),
    platform: (c: Container) => c.state.platform,
    imageRef: (c: Container) => {
      if (!c.state.imageRef) throw new InvalidArgumentError("container has no image reference: it was not created with from()");
      return c.state.imageRef;
    },
    rootfs: (c: Container) => new Directory(c.state.rootfs, "/"),
    withExec: (c: Container, a: Args) => withExec(c, a),
    stdout: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).stdout,
    stderr: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).stderr,
    combinedOutput: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).combined,
    exitCode: async (c: Container, _a: Args, ctx: RequestContext) => (await execResult(ctx, c)).exitCode,
    withEnvVariable: (c: Container, a: Args) => c.withEnvVariable(str(a, "name"), expand(c, a, str(a, "value"))),
    withoutEnvVariable: (c: Container, a: Args) => c.withoutEnvVariable(str(a, "name")),
    envVariable: (c: Container, a: Args) => c.envVariable(str(a, "name")) ?? null,
    envVariables: (c: Container) =>
      c.state.env.map((e) => {
        const i = e.indexOf("=");
        return new NamedValue("EnvVariable", i < 0 ? e : e.slice(0, i), i < 0 ? "" : e.slice(i + 1));
      }),
    withWorkdir: (c: Container, a: Args) => c.withWorkdir(expand(c, a, str(a, "path"))),
    withoutWorkdir: (c: Container) => c.with({ workdir: "" }),
    workdir: (c: Container) => c.state.workdir || "/",
    withUser: (c: Container, a: Args) => c.with({ user: str(a, "name") }),
    withoutUser: (c: Container) => c.with({ user: "" }),
    user: (c: Container) => c.state.user,
    withEntrypoint: (c: Container, a: Args) =>
      c.with({ entrypoint: a["args"] as string[], ...(bool(a, "keepDefaultArgs") ? {} : { defaultArgs: [] }) }),
    withoutEntrypoint: (c: Container, a: Args) => c.with({ entrypoint: [], ...(bool(a, "keepDefaultArgs") ? {} : { defaultArgs: [] }) }),
    entrypoint: (c: Container) => c.state.entrypoint,
    withDefaultArgs: (c: Container, a: Args) => c.with({ defaultArgs: a["args"] as string[] }),
    withoutDefaultArgs: (c: Container) => c.with({ defaultArgs: [] }),
    defaultArgs: (c: Container) => c.state.defaultArgs,
    withLabel: (c: Container, a: Args) => c.withLabel(str(a, "name"), str(a, "value")),
    withoutLabel: (c: Container, a: Args) => c.withoutLabel(str(a, "name")),
    label: (c: Container, a: Args) => c.state.labels.find(([k]) => k === str(a, "name"))?.[1] ?? null,
    labels: (c: Container) => c.state.labels.map(([k, v]) => new NamedValue("Label", k, v)),
    withExposedPort: (c: Container, a: Args) => {
      const port = a["port"] as number;
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`invalid port ${port}: want 1 to 65535`);
      const protocol = (optStr(a, "protocol") ?? "TCP") as "TCP" | "UDP";
      const description = optStr(a, "description");
      const others = c.state.exposedPorts.filter((p) => !(p.port === port && p.protocol === protocol));
      return c.with({ exposedPorts: [...others, { port, protocol, ...(description ? { description } : {}) }] });
    },
    withoutExposedPort: (c: Container, a: Args) =>
      c.with({ exposedPorts: c.state.exposedPorts.filter((p) => !(p.port === a["port"] && p.protocol === (optStr(a, "protocol") ?? "TCP"))) }),
    exposedPorts: (c: Container) => c.state.exposedPorts.map((p) => new Port(p.port, p.protocol, p.description, false)),
    withMountedCache: (c: Container, a: Args) => {
      const cache = loadObject(str(a, "cache"), "CacheVolume") as CacheVolume;
      const owner = optStr(a, "owner");
      return c.withMount({
        target: c.absPath(expand(c, a, str(a, "path"))),
        type: "cache",
        key: cache.key,
        sharing: (optStr(a, "sharing") ?? "SHARED") as CacheSharingMode,
        ...(owner ? { owner } : {}),
      });
    },
    withMountedTemp: (c: Container, a: Args) => {
      const size = a["size"];
      return c.withMount({ target: c.absPath(expand(c, a, str(a, "path"))), type: "tmpfs", ...(typeof size === "number" ? { size } : {}) });
    },
    withoutMount: (c: Container, a: Args) => c.withoutMount(expand(c, a, str(a, "path"))),
    mounts: (c: Container) => c.state.mounts.map((m) => m.target),
    withNewFile: (c: Container, a: Args) => {
      const p = c.absPath(expand(c, a, str(a, "path")));
      const owner = optStr(a, "owner");
      const action = { action: "mkfile", path: p, contents: optStr(a, "contents") ?? "", permissions: permissions(a), ...(owner ? { owner } : {}) };
      return c.with({ rootfs: fileOp(c.state.rootfs, [action], `withNewFile ${p}`) });
    },
    file: (c: Container, a: Args) => new File(c.state.rootfs, c.absPath(expand(c, a, str(a, "path")))),
    directory: (c: Container, a: Args) => new Directory(c.state.rootfs, c.absPath(expand(c, a, str(a, "path")))),
    exists: (c: Container, a: Args, ctx: RequestContext) => exists(ctx, c.state.rootfs, c.absPath(expand(c, a, str(a, "path"))), a),
  },

  Directory: {
    id: (d: Directory) => idOf(d),
    sync: async (d: Directory, _a: Args, ctx: RequestContext) => {
      if (d.source) await solve(ctx, d.source);
      return idOf(d);
    },
    entries: (d: Directory, a: Args, ctx: RequestContext) => listDir(ctx, d.source, path.posix.resolve(d.path, optStr(a, "path") ?? ".")),
    glob: (d: Directory, a: Args, ctx: RequestContext) => globDir(ctx, d.source, d.path, str(a, "pattern")),
    file: (d: Directory, a: Args) => new File(d.source, path.posix.resolve(d.path, str(a, "path"))),
    directory: (d: Directory, a: Args) => new Directory(d.source, path.posix.resolve(d.path, str(a, "path"))),
    exists: (d: Directory, a: Args, ctx: RequestContext) => exists(ctx, d.source, path.posix.resolve(d.path, str(a, "path")), a),
    withNewFile: (d: Directory, a: Args) => {
      const p = path.posix.resolve(d.path, str(a, "path"));
      const action = { action: "mkfile", path: p, contents: str(a, "contents"), permissions: permissions(a) };
      return new Directory(fileOp(d.source, [action], `withNewFile ${p}`), d.path);
    },
    name: (d: Directory) => (d.path === "/" ? "/" : path.posix.basename(d.path) + "/"),
  },

  File: {
    id: (f: File) => idOf(f),
    sync: async (f: File, _a: Args, ctx: RequestContext) => {
      await readFileAt(ctx, f.source, f.path);
      return idOf(f);
    },
    contents: async (f: File, a: Args, ctx: RequestContext) => {
      const text = (await readFileAt(ctx, f.source, f.path)).toString("utf8");
      const offset = a["offsetLines"] as number | null | undefined;
      const limit = a["limitLines"] as number | null | undefined;
      if (!offset && !limit) return text;
      const lines = text.split(/(?<=\n)/);
      return lines.slice(offset ?? 0, limit ? (offset ?? 0) + limit : undefined).join("");
    },
    size: async (f: File, _a: Args, ctx: RequestContext) => (await readFileAt(ctx, f.source, f.path)).length,
    name: (f: File) => path.posix.basename(f.path),
    digest: async (f: File, _a: Args, ctx: RequestContext) => sha256(await readFileAt(ctx, f.source, f.path)),
  },

  CacheVolume: { id: (v: CacheVolume) => idOf(v) },
  EnvVariable: { id: idOf, name: (e: NamedValue) => e.name, value: (e: NamedValue) => e.value },
  Label: { id: idOf, name: (e: NamedValue) => e.name, value: (e: NamedValue) => e.value },
  Port: {
    id: idOf,
    port: (p: Port) => p.port,
    protocol: (p: Port) => p.protocol,
    description: (p: Port) => p.description ?? null,
    experimentalSkipHealthcheck: (p: Port) => p.experimentalSkipHealthcheck,
  },
};
