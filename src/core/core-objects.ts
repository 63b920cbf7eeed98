/**
 * The core object types and the schema of each one's ID state. The schemas
 * are typed against the classes' own state types, so they cannot drift.
 */
import type * as Z from "zod";
import { isCommitSha, normalizeGitUrl } from "../sources/git-refs.js";
import { lazySchemas } from "../util/zod.js";
import { Container, type ContainerMount, type ContainerState } from "./container.js";
import { registerExtraTypes } from "./extra-values.js";
import { HealthcheckConfig, type HealthcheckSpec } from "./healthcheck.js";
import { Host } from "./host.js";
import { ObjectTypes } from "./object-types.js";
import { specSchemas } from "./op-specs.js";
import { Secret, type SecretRef } from "./secrets.js";
import { Service } from "./service.js";
import { GitRef, GitRepository } from "./sources.js";
import { CacheVolume, Directory, File, NamedValue, Port, QueryRoot, Stat } from "./values.js";
import { registerVolumeType, volumeStateSchema } from "./volumes.js";

/** The state schemas shared by several types, built on first use (see util/zod.ts). */
const parts = lazySchemas((z) => {
  const { absPath, gitAuthSpec, platform, secretKey, serviceSpec, sharing, vertexRef } = specSchemas();
  const str = z.string();
  const int = z.number().int();
  const port = int.min(1).max(65535);
  const protocol = z.enum(["TCP", "UDP"]);

  const secretRef = secretKey.extend({ uri: str.exactOptional(), cacheKey: str.exactOptional() }) satisfies Z.ZodType<SecretRef>;

  const fsRef = z.strictObject({ source: vertexRef.optional(), path: str.refine((p) => p.startsWith("/"), "must be absolute") });

  const mount = z.discriminatedUnion("type", [
    z.strictObject({
      target: absPath,
      type: z.literal("cache"),
      key: str.min(1),
      sharing,
      owner: str.exactOptional(),
      from: z.strictObject({ source: vertexRef.optional(), path: str }).exactOptional(),
    }),
    z.strictObject({ target: absPath, type: z.literal("tmpfs"), size: int.nonnegative().exactOptional() }),
    z.strictObject({ target: absPath, type: z.enum(["dir", "file"]), source: vertexRef.optional(), path: str, readOnly: z.boolean() }),
    z.strictObject({ target: absPath, type: z.literal("secret"), secret: secretRef, owner: str.exactOptional(), mode: int.min(0).max(0o7777) }),
    z.strictObject({ target: absPath, type: z.literal("socket"), client: str.min(1), path: str.min(1), owner: str.exactOptional() }),
    z.strictObject({ target: absPath, type: z.literal("volume"), volume: volumeStateSchema(z, secretRef), readOnly: z.boolean() }),
  ]) satisfies Z.ZodType<ContainerMount>;

  const healthcheckSchema = z.strictObject({
    args: z.array(str).min(1),
    shell: z.boolean(),
    interval: str.exactOptional(),
    timeout: str.exactOptional(),
    startPeriod: str.exactOptional(),
    startInterval: str.exactOptional(),
    retries: int.nonnegative().exactOptional(),
  }) satisfies Z.ZodType<HealthcheckSpec>;

  const containerState = z.strictObject({
    platform,
    rootfs: vertexRef.optional(),
    imageRef: str.exactOptional(),
    env: z.array(str),
    workdir: str,
    user: str,
    entrypoint: z.array(str),
    defaultArgs: z.array(str),
    labels: z.array(z.tuple([str, str])),
    exposedPorts: z.array(z.strictObject({ port, protocol, description: str.exactOptional(), skipHealthcheck: z.literal(true).exactOptional() })),
    mounts: z.array(mount),
    serviceBindings: z.array(z.strictObject({ alias: str.min(1), service: serviceSpec })),
    registryAuth: z.array(z.strictObject({ host: str.min(1), username: str, secret: secretRef })),
    secretEnv: z.array(z.strictObject({ name: str.min(1), secret: secretRef })),
    lastExec: vertexRef.optional(),
    annotations: z.array(z.tuple([str, str])).optional(),
    healthcheck: healthcheckSchema.optional(),
    volatileEnv: z.array(z.tuple([str.min(1), str])).optional(),
    defaultTerminalCmd: z
      .strictObject({ args: z.array(str), experimentalPrivilegedNesting: z.boolean().exactOptional(), insecureRootCapabilities: z.boolean().exactOptional() })
      .optional(),
  }) satisfies Z.ZodType<ContainerState>;

  const named = z.strictObject({ name: str, value: str });
  const gitRepository = z.union([
    z.strictObject({ url: str.min(1), discardGitDir: z.boolean(), auth: gitAuthSpec.optional(), serviceHost: serviceSpec.optional() }),
    z.strictObject({ local: fsRef, discardGitDir: z.boolean() }),
  ]);
  const repoOf = (s: Z.infer<typeof gitRepository>): GitRepository =>
    "local" in s
      ? new GitRepository("", s.discardGitDir, undefined, new Directory(s.local.source, s.local.path))
      : new GitRepository(normalizeGitUrl(s.url), s.discardGitDir, s.auth, undefined, s.serviceHost ? new Service(s.serviceHost) : undefined);

  return { str, int, port, protocol, secretRef, fsRef, healthcheckSchema, containerState, named, gitRepository, repoOf, sharing, serviceSpec };
});

/** Every core type; sessions extend this registry with their own. */
export const coreObjectTypes = new ObjectTypes();

coreObjectTypes.register(
  "Container",
  () => parts().containerState,
  (s) => new Container(s as ContainerState),
);
coreObjectTypes.register(
  "Directory",
  () => parts().fsRef,
  (s) => new Directory(s.source, s.path),
);
coreObjectTypes.register(
  "File",
  () => parts().fsRef,
  (s) => new File(s.source, s.path),
);
coreObjectTypes.register(
  "CacheVolume",
  (z) => {
    const { str, fsRef, sharing } = parts();
    return z.strictObject({ key: str.min(1), source: fsRef.exactOptional(), sharing: sharing.exactOptional(), owner: str.exactOptional() });
  },
  (s) =>
    new CacheVolume(s.key, {
      ...(s.source ? { source: new Directory(s.source.source, s.source.path) } : {}),
      ...(s.sharing ? { sharing: s.sharing } : {}),
      ...(s.owner ? { owner: s.owner } : {}),
    }),
);
coreObjectTypes.register(
  "EnvVariable",
  () => parts().named,
  (s) => new NamedValue("EnvVariable", s.name, s.value),
);
coreObjectTypes.register(
  "Label",
  () => parts().named,
  (s) => new NamedValue("Label", s.name, s.value),
);
coreObjectTypes.register(
  "Port",
  (z) => {
    const { str, port, protocol } = parts();
    return z.strictObject({ port, protocol, description: str.exactOptional(), experimentalSkipHealthcheck: z.boolean() });
  },
  (s) => new Port(s.port, s.protocol, s.description, s.experimentalSkipHealthcheck),
);
coreObjectTypes.register(
  "Stat",
  (z) =>
    z.strictObject({
      name: z.string(),
      fileType: z.enum(["REGULAR", "DIRECTORY", "SYMLINK", "UNKNOWN"]),
      permissions: z.number().int(),
      size: z.number().nonnegative(),
    }),
  (s) => new Stat(s.name, s.fileType, s.permissions, s.size),
);
coreObjectTypes.register(
  "Host",
  (z) => z.strictObject({}),
  () => new Host(),
);
coreObjectTypes.register(
  "Query",
  (z) => z.strictObject({}),
  () => new QueryRoot(),
);
coreObjectTypes.register(
  "Secret",
  () => parts().secretRef,
  (s) => new Secret(s as SecretRef),
);
coreObjectTypes.register(
  "Service",
  () => parts().serviceSpec,
  (s) => new Service(s),
);
coreObjectTypes.register(
  "GitRepository",
  () => parts().gitRepository,
  (s) => parts().repoOf(s),
);
coreObjectTypes.register(
  "GitRef",
  (z) => {
    const { str, gitRepository } = parts();
    return z.strictObject({ repo: gitRepository, ref: str, commit: str.refine(isCommitSha, "must be a full commit SHA") });
  },
  (s) => new GitRef(parts().repoOf(s.repo), s.ref, s.commit),
);
registerExtraTypes(coreObjectTypes);
registerVolumeType(coreObjectTypes, () => parts().secretRef);
coreObjectTypes.register(
  "HealthcheckConfig",
  () => parts().healthcheckSchema,
  (s) => new HealthcheckConfig(s),
);
