/**
 * Volume (Query.sshfsVolume): a remote directory reached over SSH, mounted
 * into a container's execs by `withMountedVolume`. The value only names
 * the endpoint and the secrets; nothing connects until an exec runs.
 */
import type * as Z from "zod";
import { digestOf } from "../oci/digest.js";
import type { ExecOp } from "../ops/exec-types.js";
import type { SshfsVolumeSpec } from "../ops/sshfs-volumes.js";
import type { Zod } from "../util/zod.js";
import type { ObjectTypes } from "./object-types.js";
import { specSchemas } from "./op-specs.js";
import { opSecretKey, type SecretRef } from "./secrets.js";
import type { ServiceSpec } from "./service.js";

export interface VolumeState {
  endpoint: string;
  privateKey: SecretRef;
  knownHosts?: SecretRef;
  insecureSkipHostKeyCheck?: true;
  /** Volumes with one cacheKey are one for the cache. */
  cacheKey?: string;
  serviceHost?: ServiceSpec;
}

export class Volume {
  readonly typename = "Volume";
  constructor(readonly state: Readonly<VolumeState>) {}
  toJSON(): unknown {
    return this.state;
  }
}

/** How an exec reaches the volume (secrets by HMAC only). */
export function volumeSpec(v: VolumeState): SshfsVolumeSpec {
  return {
    endpoint: v.endpoint,
    privateKey: opSecretKey(v.privateKey),
    ...(v.knownHosts ? { knownHosts: opSecretKey(v.knownHosts) } : {}),
    ...(v.insecureSkipHostKeyCheck ? { insecureSkipHostKeyCheck: true as const } : {}),
    ...(v.serviceHost ? { serviceHost: v.serviceHost } : {}),
  };
}

/** The volume's part of an exec's cache key. */
export function volumeKey(v: VolumeState): string {
  return v.cacheKey !== undefined ? `cacheKey:${v.cacheKey}` : `sshfs:${digestOf(volumeSpec(v))}`;
}

/** The exec op's `origin.volumes` for a container's volume mounts (undefined when it has none). */
export function volumeOrigins(mounts: readonly { type: string; target: string; volume?: unknown }[]): NonNullable<ExecOp["origin"]>["volumes"] {
  const out: Record<string, SshfsVolumeSpec> = {};
  for (const m of mounts) if (m.type === "volume") out[m.target] = volumeSpec(m.volume as VolumeState);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Register Volume, whose secrets have the state schema `secretRef` of the core types. */
export function registerVolumeType(types: ObjectTypes, secretRef: () => Z.ZodType<SecretRef>): void {
  types.register(
    "Volume",
    (z) => volumeStateSchema(z, secretRef()),
    (s) => new Volume(s),
  );
}

export function volumeStateSchema(z: Zod, secretRef: Z.ZodType<SecretRef>): Z.ZodType<VolumeState> {
  const { serviceSpec } = specSchemas();
  return z.strictObject({
    endpoint: z.string().min(1),
    privateKey: secretRef,
    knownHosts: secretRef.exactOptional(),
    insecureSkipHostKeyCheck: z.literal(true).exactOptional(),
    cacheKey: z.string().exactOptional(),
    serviceHost: serviceSpec.exactOptional(),
  }) satisfies Z.ZodType<VolumeState>;
}
