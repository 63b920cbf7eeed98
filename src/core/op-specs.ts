/**
 * The schema of every op spec, checked when an ID is decoded: ops come back
 * from clients, so each field is checked here before any op can run with it.
 * Each schema is typed against the op's own interface, so the two cannot
 * drift apart.
 */
import type * as Z from "zod";
import { isDigest } from "../oci/digest.js";
import type { ChangesetMergeOp } from "../ops/changeset-merge-op.js";
import type { ExecOp } from "../ops/exec-types.js";
import type { FileAction, FileOp } from "../ops/file-op.js";
import type { GitAuthSpec } from "../ops/git-auth.js";
import type { GitLocalOp } from "../ops/git-local-op.js";
import type { GitOp } from "../ops/git-op.js";
import type { HostDirOp } from "../ops/host-dir-op.js";
import { type HttpFileOp, isPlainName } from "../ops/http-op.js";
import type { ImageImportOp, ImageTarballOp } from "../ops/image-archive-ops.js";
import type { ImageOp } from "../ops/image-op.js";
import type { SshfsVolumeSpec } from "../ops/sshfs-volumes.js";
import type { OpSpec, Vertex } from "../solver/types.js";
import { isVertex } from "../solver/vertex.js";
import { isCommitSha } from "../sources/git-refs.js";
import { lazySchemas } from "../util/zod.js";
import type { ServiceSpec } from "./service.js";

/**
 * The schemas, built on first use (see util/zod.ts); the shared parts
 * (paths, platforms, vertex references, secrets, services, git auth) are
 * reused by the object-state schemas.
 */
export const specSchemas = lazySchemas((z) => {
  const str = z.string();
  const int = z.number().int();
  const nat = int.nonnegative();
  const mode = int.min(0).max(0o7777);
  const digest = str.refine(isDigest, "must be sha256:<64 hex digits>");
  const absPath = str.refine((p) => p.startsWith("/") && !p.includes("\0"), "must be an absolute path");
  const relOrAbsPath = str.refine((p) => !p.includes("\0"), "must not contain NUL");
  const platform = str.regex(/^[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_.]+)?$/, "must be os/arch[/variant]");
  const vertexRef = z.custom<Vertex>(isVertex, "must be a vertex reference");
  const secretKey = z.strictObject({ name: str, mac: str.regex(/^[a-f0-9]{64}$/, "must be a hex HMAC") });
  const sharing = z.enum(["SHARED", "PRIVATE", "LOCKED"]);

  const execMount = z.discriminatedUnion("type", [
    z.strictObject({
      target: absPath,
      type: z.literal("cache"),
      key: str.min(1),
      sharing,
      owner: str.exactOptional(),
      seed: z.strictObject({ input: int.min(-1), path: relOrAbsPath }).exactOptional(),
    }),
    z.strictObject({ target: absPath, type: z.literal("tmpfs"), size: nat.exactOptional() }),
    z.strictObject({ target: absPath, type: z.enum(["dir", "file"]), input: int.min(-1), path: relOrAbsPath, readOnly: z.boolean() }),
    z.strictObject({ target: absPath, type: z.literal("secret"), secret: secretKey, owner: str.exactOptional(), mode }),
    z.strictObject({ target: absPath, type: z.literal("socket"), client: str.min(1), path: str.min(1), owner: str.exactOptional() }),
    z.strictObject({ target: absPath, type: z.literal("volume"), volume: str.min(1), readOnly: z.boolean() }),
  ]);

  const portForward = z.strictObject({ frontend: int.min(0).max(65535).exactOptional(), backend: int.min(1).max(65535), protocol: z.enum(["TCP", "UDP"]) });

  /** A service's recipe (an exec binds services; a Service ID holds one). */
  const serviceSpec: Z.ZodType<ServiceSpec> = z.lazy(() =>
    z.discriminatedUnion("kind", [
      z.strictObject({
        kind: z.literal("container"),
        exec: vertexRef,
        ports: z.array(
          z.strictObject({
            port: int.min(1).max(65535),
            protocol: z.enum(["TCP", "UDP"]),
            description: str.exactOptional(),
            skipHealthcheck: z.boolean().exactOptional(),
          }),
        ),
        hostname: str.exactOptional(),
      }),
      z.strictObject({ kind: z.literal("host"), ports: z.array(portForward), host: str.min(1), hostname: str.exactOptional() }),
      z.strictObject({ kind: z.literal("tunnel"), upstream: serviceSpec, ports: z.array(portForward), random: z.boolean() }),
    ]),
  ) as Z.ZodType<ServiceSpec>;

  const sshfsVolume = z.strictObject({
    endpoint: str.min(1),
    privateKey: secretKey,
    knownHosts: secretKey.exactOptional(),
    insecureSkipHostKeyCheck: z.literal(true).exactOptional(),
    serviceHost: serviceSpec.exactOptional(),
  }) satisfies Z.ZodType<SshfsVolumeSpec>;

  const exec = z.strictObject({
    kind: z.literal("exec"),
    rootfs: z.boolean(),
    args: z.array(str),
    env: z.array(str),
    secretEnv: z.array(z.strictObject({ name: str.min(1), secret: secretKey })).exactOptional(),
    cwd: absPath,
    user: str,
    mounts: z.array(execMount),
    platform,
    expect: z.enum(["SUCCESS", "FAILURE", "ANY"]),
    stdin: str.exactOptional(),
    redirectStdout: absPath.exactOptional(),
    redirectStderr: absPath.exactOptional(),
    noInit: z.boolean().exactOptional(),
    redirectStdin: absPath.exactOptional(),
    insecureRootCapabilities: z.literal(true).exactOptional(),
    services: z.array(z.strictObject({ alias: str.min(1), service: serviceSpec })).exactOptional(),
    nesting: z.record(z.string(), z.unknown()).exactOptional(),
    origin: z
      .strictObject({
        volatileEnv: z.array(str.regex(/^[^=]+=/, "must be NAME=value")).exactOptional(),
        volumes: z.record(absPath, sshfsVolume).exactOptional(),
      })
      .exactOptional(),
  }) satisfies Z.ZodType<ExecOp>;

  const fileAction = z.discriminatedUnion("action", [
    z.strictObject({ action: z.literal("mkfile"), path: absPath, contents: str, permissions: mode, owner: str.exactOptional() }),
    z.strictObject({ action: z.literal("mkdir"), path: absPath, permissions: mode, owner: str.exactOptional() }),
    z.strictObject({
      action: z.literal("copy"),
      source: nat,
      src: relOrAbsPath,
      dest: absPath,
      include: z.array(str).exactOptional(),
      exclude: z.array(str).exactOptional(),
      owner: str.exactOptional(),
      permissions: mode.exactOptional(),
      gitignore: z.literal(true).exactOptional(),
    }),
    z.strictObject({ action: z.literal("rm"), path: absPath, allowNotFound: z.boolean(), wildcard: z.literal(true).exactOptional() }),
    z.strictObject({ action: z.literal("diff"), lower: int.min(-1), lowerPath: relOrAbsPath, upper: int.min(-1), upperPath: relOrAbsPath, dest: absPath }),
    z.strictObject({ action: z.literal("symlink"), target: str.min(1), link: absPath }),
    z.strictObject({ action: z.literal("timestamps"), path: absPath, time: z.number().finite() }),
  ]) satisfies Z.ZodType<FileAction>;

  const file = z.strictObject({ kind: z.literal("file"), base: z.boolean(), actions: z.array(fileAction) }) satisfies Z.ZodType<FileOp>;

  const image = z.strictObject({
    kind: z.literal("image"),
    ref: str.refine((r) => /@sha256:[a-f0-9]{64}$/.test(r), "must be pinned by digest"),
    platform,
  }) satisfies Z.ZodType<ImageOp>;

  /** Credentials of a git remote: secrets by HMAC, the client's agent socket by path. */
  const gitAuthSpec = z.strictObject({
    httpToken: z.strictObject({ username: str.min(1), secret: secretKey }).exactOptional(),
    httpHeader: secretKey.exactOptional(),
    sshKnownHosts: str.exactOptional(),
    sshAuthSocket: z.strictObject({ client: str.min(1), path: str.min(1) }).exactOptional(),
  }) satisfies Z.ZodType<GitAuthSpec>;

  const git = z.strictObject({
    kind: z.literal("git"),
    url: str.min(1),
    commit: str.refine(isCommitSha, "must be a full commit SHA"),
    keepGitDir: z.literal(true).exactOptional(),
    depth: nat.exactOptional(),
    includeTags: z.literal(true).exactOptional(),
    origin: z.strictObject({ auth: gitAuthSpec.exactOptional(), serviceHost: serviceSpec.exactOptional() }).exactOptional(),
  }) satisfies Z.ZodType<GitOp>;

  const gitLocal = z.strictObject({
    kind: z.literal("git-local"),
    mode: z.enum(["checkout", "cleaned"]),
    path: absPath,
    commit: str.refine(isCommitSha, "must be a full commit SHA").exactOptional(),
    keepGitDir: z.literal(true).exactOptional(),
    depth: nat.exactOptional(),
  }) satisfies Z.ZodType<GitLocalOp>;

  const changesetMerge = z.strictObject({
    kind: z.literal("changeset-merge"),
    sides: z
      .array(z.strictObject({ before: int.min(-1), beforePath: absPath, after: int.min(-1), afterPath: absPath }))
      .min(2)
      .max(256),
    onConflict: z.enum(["FAIL", "FAIL_EARLY", "LEAVE_CONFLICT_MARKERS", "PREFER_OURS", "PREFER_THEIRS"]),
    octopus: z.boolean(),
  }) satisfies Z.ZodType<ChangesetMergeOp>;

  const httpFile = z.strictObject({
    kind: z.literal("http-file"),
    digest,
    origin: z.strictObject({ url: z.url({ protocol: /^https?$/ }), auth: secretKey.exactOptional() }),
    name: str.refine(isPlainName, "must be a plain file name"),
    permissions: mode,
    mtime: int.exactOptional(),
  }) satisfies Z.ZodType<HttpFileOp>;

  const imageSettings = z.strictObject({
    platform: z.strictObject({ os: str, architecture: str, variant: str.exactOptional() }),
    env: z.array(str),
    workdir: str,
    user: str,
    entrypoint: z.array(str),
    cmd: z.array(str),
    labels: z.array(z.tuple([str, str])),
    exposedPorts: z.array(z.strictObject({ port: int.min(1).max(65535), protocol: z.enum(["TCP", "UDP"]) })),
    annotations: z.array(z.tuple([str, str])).exactOptional(),
    healthcheck: z
      .strictObject({
        Test: z.array(str).exactOptional(),
        Interval: nat.exactOptional(),
        Timeout: nat.exactOptional(),
        StartPeriod: nat.exactOptional(),
        StartInterval: nat.exactOptional(),
        Retries: nat.exactOptional(),
      })
      .exactOptional(),
  });

  const imageTarball = z.strictObject({
    kind: z.literal("image-tarball"),
    variants: z.array(z.strictObject({ rootfs: int.min(-1), settings: imageSettings })).min(1),
    compression: z.enum(["gzip", "zstd", "none", "estargz"]).exactOptional(),
    mediaTypes: z.enum(["oci", "docker"]),
  }) satisfies Z.ZodType<ImageTarballOp>;

  const imageImport = z.strictObject({
    kind: z.literal("image-import"),
    manifest: digest,
    path: relOrAbsPath,
    platform,
    tag: str.exactOptional(),
  }) satisfies Z.ZodType<ImageImportOp>;

  const hostDir = z.strictObject({
    kind: z.literal("host-dir"),
    digest,
    type: z.enum(["dir", "file"]),
    origin: z.strictObject({
      client: str.min(1),
      path: str.min(1),
      include: z.array(str),
      exclude: z.array(str),
      gitignore: z.boolean(),
      workdirOf: str.min(1).exactOptional(),
    }),
  }) satisfies Z.ZodType<HostDirOp>;

  const output = z.strictObject({ kind: z.literal("output"), mount: nat });

  const ops: Record<string, Z.ZodType<OpSpec>> = {
    exec,
    file,
    image,
    git,
    "git-local": gitLocal,
    "changeset-merge": changesetMerge,
    "http-file": httpFile,
    "image-tarball": imageTarball,
    "image-import": imageImport,
    "host-dir": hostDir,
    output,
  } as Record<string, Z.ZodType<OpSpec>>;

  return { absPath, platform, vertexRef, secretKey, sharing, serviceSpec, gitAuthSpec, sshfsVolume, ops };
});

/** Check an op spec from an ID; the error names the op and the bad field. */
export function parseOpSpec(op: unknown, at: string): OpSpec {
  const kind = (op as { kind?: unknown } | null)?.kind;
  const { ops } = specSchemas();
  const schema = typeof kind === "string" && Object.hasOwn(ops, kind) ? ops[kind] : undefined;
  if (!schema) throw new Error(`${at}: unknown op kind ${JSON.stringify(kind)}`);
  const r = schema.safeParse(op);
  if (!r.success) throw new Error(`${at} (${kind}): ${describeIssues(r.error)}`);
  return r.data;
}

/** "field.path: message; …" for the first few issues. */
export function describeIssues(error: Z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "value"}: ${i.message}`)
    .join("; ");
}
