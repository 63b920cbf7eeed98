/**
 * Container: an immutable recipe. Its filesystem is the output of a vertex
 * (undefined for an empty container); the rest is image configuration and
 * the mounts and settings the next exec will get. Every `with*` returns a new
 * value; nothing runs until a leaf field needs a result.
 */

import { InvalidArgumentError } from "../errors.js";
import { cleanPath } from "../fsutil/in-root.js";
import type { ResolvedImage } from "../images/image-store.js";
import type { ImageConfig } from "../oci/image.js";
import { formatPlatform, normalizePlatform, type Platform, parsePlatform } from "../oci/platform.js";
import { formatReference, parseReference, type Reference } from "../oci/reference.js";
import type { ExecMount } from "../ops/exec-types.js";
import type { Vertex } from "../solver/types.js";
import { vertex } from "../solver/vertex.js";
import { fromDockerHealthcheck, type HealthcheckSpec } from "./healthcheck.js";
import { withRegistryService } from "./registry-service.js";
import { opSecretKey, type SecretRef } from "./secrets.js";
import type { Service, ServiceSpec } from "./service.js";
import type { RequestContext } from "./types.js";
import { type VolumeState, volumeKey, volumeOrigins } from "./volumes.js";

export type { CacheSharingMode } from "../ops/cache-volumes.js";

import type { CacheSharingMode } from "../ops/cache-volumes.js";

export type ContainerMount =
  /** A cache volume; `from` is the directory a new volume starts with. */
  | { target: string; type: "cache"; key: string; sharing: CacheSharingMode; owner?: string; from?: { source?: Vertex | undefined; path: string } }
  | { target: string; type: "tmpfs"; size?: number }
  /** A Directory or File value mounted at `target`. */
  | { target: string; type: "dir" | "file"; source?: Vertex | undefined; path: string; readOnly: boolean }
  /** A secret as a file (on a tmpfs, never on disk). */
  | { target: string; type: "secret"; secret: SecretRef; owner?: string; mode: number }
  /** A unix socket of the client (Host.unixSocket), forwarded through the session. */
  | { target: string; type: "socket"; client: string; path: string; owner?: string }
  /** A remote directory (Query.sshfsVolume), mounted for each exec. */
  | { target: string; type: "volume"; volume: VolumeState; readOnly: boolean };

export interface ExposedPort {
  port: number;
  protocol: "TCP" | "UDP";
  description?: string;
  /** Not health-checked when the container runs as a service. */
  skipHealthcheck?: boolean;
}

export interface ContainerState {
  platform: string;
  rootfs?: Vertex | undefined;
  imageRef?: string;
  env: string[];
  workdir: string;
  user: string;
  entrypoint: string[];
  defaultArgs: string[];
  labels: Array<[string, string]>;
  exposedPorts: ExposedPort[];
  mounts: ContainerMount[];
  /** Services started before each exec, reachable by alias. */
  serviceBindings: Array<{ alias: string; service: ServiceSpec }>;
  /** Registry logins for publish, by registry host; the password is a secret. */
  registryAuth: Array<{ host: string; username: string; secret: SecretRef }>;
  /** Environment variables whose values are secrets. */
  secretEnv: Array<{ name: string; secret: SecretRef }>;
  /** The last withExec, whose stdout/stderr/exitCode the container reports. */
  lastExec?: Vertex | undefined;
  /** OCI annotations of exported and published manifests. */
  annotations?: Array<[string, string]> | undefined;
  /** Docker's HEALTHCHECK, from the image or withDockerHealthcheck. */
  healthcheck?: HealthcheckSpec | undefined;
  /** Variables set for execs but kept out of their cache keys (NAME, value). */
  volatileEnv?: Array<[string, string]> | undefined;
  /** What `terminal` runs when given no command (withDefaultTerminalCmd). */
  defaultTerminalCmd?: { args: string[]; experimentalPrivilegedNesting?: boolean; insecureRootCapabilities?: boolean } | undefined;
}

export class Container {
  readonly typename = "Container";
  constructor(readonly state: Readonly<ContainerState>) {}

  static empty(platform: string): Container {
    return new Container({
      platform,
      rootfs: undefined,
      env: [],
      workdir: "",
      user: "",
      entrypoint: [],
      defaultArgs: [],
      labels: [],
      exposedPorts: [],
      mounts: [],
      secretEnv: [],
      serviceBindings: [],
      registryAuth: [],
    });
  }

  with(patch: Partial<ContainerState>): Container {
    return new Container({ ...this.state, ...patch });
  }

  /** Replace filesystem and configuration with an image's. */
  /**
   * The image's filesystem and settings, as Dagger's from() takes them: the
   * image's env, labels and exposed ports are merged into the container's
   * (the image's value wins for a name both have); its other settings
   * replace the container's. Mounts, secrets and services stay.
   */
  fromImage(rootfs: Vertex, imageRef: string, config: ImageConfig): Container {
    const c = config.config ?? {};
    let env: Container = this;
    for (const e of c.Env ?? []) {
      const [k, v] = splitEnv(e);
      env = env.withEnvVariable(k, v ?? "");
    }
    const imageLabels = Object.entries(c.Labels ?? {});
    const labels = [...this.state.labels.filter(([k]) => !imageLabels.some(([n]) => n === k)), ...imageLabels];
    const imagePorts = Object.keys(c.ExposedPorts ?? {}).map(parseExposedPort);
    const ports = [...this.state.exposedPorts.filter((p) => !imagePorts.some((q) => q.port === p.port && q.protocol === p.protocol)), ...imagePorts];
    return this.with({
      rootfs,
      imageRef,
      env: env.state.env,
      workdir: c.WorkingDir ?? "",
      user: c.User ?? "",
      entrypoint: c.Entrypoint ?? [],
      defaultArgs: c.Cmd ?? [],
      labels,
      exposedPorts: ports,
      lastExec: undefined,
      healthcheck: fromDockerHealthcheck(c.Healthcheck),
    });
  }

  envVariable(name: string): string | undefined {
    for (let i = this.state.env.length - 1; i >= 0; i--) {
      const [k, v] = splitEnv(this.state.env[i]!);
      if (k === name) return v;
    }
    return undefined;
  }

  withEnvVariable(name: string, value: string): Container {
    const entry = `${name}=${value}`;
    const existing = this.state.env.findIndex((e) => splitEnv(e)[0] === name);
    if (existing < 0) return this.with({ env: [...this.state.env, entry] });
    // Keep the variable's position when replacing it, as Docker does.
    return this.with({ env: this.state.env.map((e, i) => (i === existing ? entry : e)) });
  }

  withoutEnvVariable(name: string): Container {
    return this.with({ env: this.state.env.filter((e) => splitEnv(e)[0] !== name) });
  }

  withLabel(name: string, value: string): Container {
    return this.with({ labels: [...this.state.labels.filter(([k]) => k !== name), [name, value]] });
  }

  withoutLabel(name: string): Container {
    return this.with({ labels: this.state.labels.filter(([k]) => k !== name) });
  }

  /** Expose `p` (replacing the same port and protocol); refuses a port outside 1-65535. */
  withExposedPort(p: ExposedPort): Container {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new InvalidArgumentError(`invalid port ${p.port}: want 1 to 65535`);
    return this.with({ exposedPorts: [...this.withoutExposedPort(p.port, p.protocol).state.exposedPorts, p] });
  }

  withoutExposedPort(port: number, protocol: ExposedPort["protocol"]): Container {
    return this.with({ exposedPorts: this.state.exposedPorts.filter((p) => !(p.port === port && p.protocol === protocol)) });
  }

  withWorkdir(path: string): Container {
    return this.with({ workdir: cleanPath(path, this.state.workdir || "/") });
  }

  withMount(m: ContainerMount): Container {
    return this.with({ mounts: [...this.state.mounts.filter((x) => x.target !== m.target), m] });
  }

  withoutMount(path: string): Container {
    const target = cleanPath(path, this.state.workdir || "/");
    return this.with({ mounts: this.state.mounts.filter((m) => m.target !== target) });
  }

  /** Absolute path of `p` inside the container, relative to the workdir. */
  absPath(p: string): string {
    return cleanPath(p, this.state.workdir || "/");
  }

  toJSON(): unknown {
    return this.state;
  }
}

export function splitEnv(entry: string): [string, string] {
  const i = entry.indexOf("=");
  return i < 0 ? [entry, ""] : [entry.slice(0, i), entry.slice(i + 1)];
}

function parseExposedPort(key: string): ExposedPort {
  const [port, proto] = key.split("/");
  return { port: Number(port), protocol: proto?.toLowerCase() === "udp" ? "UDP" : "TCP" };
}

/**
 * An exec vertex: runs `args` on the rootfs with the container's settings.
 * Mounted directories and files are further inputs; the container returned
 * by withExec sees each writable directory mount's output afterwards.
 */
export function withExec(c: Container, spec: ExecSpec): Container {
  const inputs: Vertex[] = c.state.rootfs ? [c.state.rootfs] : [];
  const sources: Vertex[] = [];
  const inputOf = (source: Vertex): number => {
    const i = sources.findIndex((v) => v.digest === source.digest);
    return i < 0 ? sources.push(source) - 1 : i;
  };
  const mounts: ExecMount[] = c.state.mounts.map((m) => {
    if (m.type === "secret") return { ...m, secret: opSecretKey(m.secret) };
    if (m.type === "tmpfs" || m.type === "socket") return m;
    if (m.type === "volume") return { target: m.target, type: "volume", volume: volumeKey(m.volume), readOnly: m.readOnly };
    if (m.type === "cache") {
      const { from, ...rest } = m;
      return from ? { ...rest, seed: { input: from.source ? inputOf(from.source) : -1, path: from.path } } : rest;
    }
    const { source, ...rest } = m;
    return { ...rest, input: source ? inputOf(source) : -1 };
  });
  const volatile = c.state.volatileEnv ?? [];
  const volumes = volumeOrigins(c.state.mounts);
  const origin = {
    ...(volatile.length > 0 ? { volatileEnv: volatile.map(([n, v]) => `${n}=${v}`) } : {}),
    ...(volumes ? { volumes } : {}),
  };
  const op = {
    kind: "exec",
    rootfs: c.state.rootfs !== undefined,
    args: spec.args,
    env: volatile.length > 0 ? c.state.env.filter((e) => !volatile.some(([n]) => e.startsWith(`${n}=`) || e === n)) : c.state.env,
    ...(Object.keys(origin).length > 0 ? { origin } : {}),
    ...(c.state.secretEnv.length > 0 ? { secretEnv: c.state.secretEnv.map(({ name, secret }) => ({ name, secret: opSecretKey(secret) })) } : {}),
    cwd: c.state.workdir || "/",
    user: c.state.user,
    mounts,
    platform: c.state.platform,
    expect: spec.expect,
    ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
    ...(spec.redirectStdout ? { redirectStdout: c.absPath(spec.redirectStdout) } : {}),
    ...(spec.redirectStderr ? { redirectStderr: c.absPath(spec.redirectStderr) } : {}),
    ...(spec.noInit ? { noInit: true } : {}),
    ...(spec.redirectStdin ? { redirectStdin: c.absPath(spec.redirectStdin) } : {}),
    ...(spec.insecureRootCapabilities ? { insecureRootCapabilities: true } : {}),
    ...(c.state.serviceBindings.length > 0 ? { services: c.state.serviceBindings } : {}),
    ...(spec.nesting ? { nesting: spec.nesting } : {}),
  };
  const exec = vertex(op, [...inputs, ...sources], `exec ${spec.args.join(" ")}`);
  const after = c.state.mounts.map((m, k) =>
    m.type === "dir" && !m.readOnly ? { ...m, source: vertex({ kind: "output", mount: k }, [exec], `mount ${m.target}`) } : m,
  );
  return c.with({ rootfs: exec, lastExec: exec, mounts: after });
}

/**
 * Resolve and unpack an image from a registry service while it is up: the
 * image op that runs later finds every layer here and needs no registry.
 */
function pullThrough(ctx: RequestContext, service: Service, ref: Reference, platform: Platform): Promise<ResolvedImage> {
  return withRegistryService(ctx, service, ref.domain, async (host) => {
    const registry = ctx.deps.images.endpointClient(ref.domain, host);
    try {
      const resolved = await ctx.deps.images.resolve(ref, platform, { signal: ctx.signal, registry });
      await ctx.deps.images.unpack(resolved.ref, { signal: ctx.signal, registry });
      return resolved;
    } finally {
      registry.close();
    }
  });
}

export interface ExecSpec {
  args: string[];
  expect: "SUCCESS" | "FAILURE" | "ANY";
  stdin?: string;
  redirectStdout?: string;
  redirectStderr?: string;
  noInit?: boolean;
  /** A file of the container read as the command's stdin. */
  redirectStdin?: string;
  /** Every capability, no masked paths, all devices (Docker's --privileged). */
  insecureRootCapabilities?: boolean;
  /** Privileged nesting: `{}`, or what a module function call attaches (part of the cache key). */
  nesting?: Readonly<Record<string, unknown>>;
}

/** `from(address)`: resolve the image (once per session) and take its filesystem and config. */
export async function fromAddress(c: Container, address: string, ctx: RequestContext, registryService?: Service): Promise<Container> {
  const ref = parseReference(address);
  const platform = parsePlatform(c.state.platform);
  const key = `${formatReference(ref)}|${formatPlatform(platform)}${registryService ? `|${registryService.digest}` : ""}`;
  let resolving = ctx.session.resolved.get(key);
  if (!resolving) {
    resolving = registryService ? pullThrough(ctx, registryService, ref, platform) : ctx.deps.images.resolve(ref, platform, { signal: ctx.signal });
    ctx.session.resolved.set(key, resolving);
    resolving.catch(() => ctx.session.resolved.delete(key));
  }
  const resolved = await resolving;
  const pinned = formatReference(resolved.ref);
  const image = vertex({ kind: "image", ref: pinned, platform: formatPlatform(platform) }, [], `from ${address}`);
  const { config } = resolved;
  const from = c.fromImage(image, pinned, config);
  // A single-platform image used for another platform is still of its own platform (as in Dagger).
  if (!config.os || !config.architecture) return from;
  const own = normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
  return from.with({ platform: formatPlatform(own) });
}
