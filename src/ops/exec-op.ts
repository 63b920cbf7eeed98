/**
 * The exec op: run a command on a snapshot and commit what it wrote.
 *
 * prepare(parent) → mount overlay → run with runc → unmount → commit. The
 * overlay upperdir is the diff, so committing is a database update and no
 * file is copied. stdout, stderr and the exit code are part of the result, so
 * a cache hit answers `stdout` without starting a container.
 *
 * Mounted directories are further inputs: read-only ones are bound from a
 * view; writable ones get their own overlay snapshot, committed as an extra
 * output that the `output` op selects (`mounts[k]` in the result).
 *
 *   inputs: [rootfs?, ...mount sources]   (op.rootfs says whether the first is the rootfs)
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ExecError, FailedPreconditionError } from "../errors.js";
import type { PlatformSupport } from "../executor/emulation.js";
import type { Executor } from "../executor/types.js";
import { resolveUser } from "../executor/user.js";
import { mkdirInRoot, resolveInRoot } from "../fsutil/in-root.js";
import { mount, unmount } from "../mount/mount.js";
import type { HostEntry, NamespacePool, NetworkNamespace } from "../network/types.js";
import { digestHex } from "../oci/digest.js";
import type { Mount as SpecMount } from "../oci/runtime-spec.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { ActiveSnapshot } from "../snapshots/types.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";
import { type CacheSharingMode, type CacheVolumes, checkVolumeConflicts } from "./cache-volumes.js";
import { StreamScrubber, scrub } from "./scrub.js";

export type ExecMount =
  | { target: string; type: "cache"; key: string; sharing: CacheSharingMode; owner?: string }
  | { target: string; type: "tmpfs"; size?: number }
  /** A directory or file from input `input` (index among the mount sources), at `path` inside it. */
  | { target: string; type: "dir" | "file"; input: number; path: string; readOnly: boolean }
  /** A secret's value as a read-only file; the value comes from the session by HMAC. */
  | { target: string; type: "secret"; secret: SecretKey; owner?: string; mode: number };

/** How an op names a secret: never its value. */
export interface SecretKey {
  name: string;
  mac: string;
}

export interface ExecOp {
  kind: "exec";
  rootfs: boolean;
  args: string[];
  env: string[];
  secretEnv?: Array<{ name: string; secret: SecretKey }>;
  cwd: string;
  user: string;
  mounts: ExecMount[];
  platform: string;
  expect: "SUCCESS" | "FAILURE" | "ANY";
  stdin?: string;
  redirectStdout?: string;
  redirectStderr?: string;
  noInit?: boolean;
  /** Services to start first, reachable under `alias` (the service spec is opaque here). */
  services?: Array<{ alias: string; service: unknown }>;
}

/** Starts bound services for an exec and reports where they are. */
export interface ServiceBinder {
  bind(service: unknown, ctx: SolveContext): Promise<{ ip: string; hostname: string; release(): Promise<void> }>;
}

/** How a container runs: an exec commits its result; a service is thrown away. */
export interface LaunchOptions {
  commit: boolean;
  /** The container's own name in its hosts file. */
  hostname?: string;
  /** Called once the container has its network namespace (before it starts). */
  onNamespace?: (ns: NetworkNamespace) => void;
}

export interface ExecResultMeta {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  combined: string;
  /** Snapshots of writable directory mounts after the command, by mount index. */
  mounts?: Record<string, string>;
}

/** Output kept per stream; beyond this, the start is dropped. */
const MAX_OUTPUT = 16 << 20;

/** Undo steps run in reverse order; each runs once even if others fail. */
class Cleanup {
  readonly #steps: Array<() => Promise<unknown>> = [];
  defer(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    while (this.#steps.length > 0) await this.#steps.pop()!().catch(() => undefined);
  }
}

export class ExecOpRunner implements OpRunner {
  readonly kind = "exec";
  readonly cacheable = true;

  constructor(
    private readonly deps: {
      snapshots: OverlaySnapshotter;
      executor: Executor;
      volumes: CacheVolumes;
      /** Scratch directory for mount points. */
      runDir: string;
      /** Where containers get their network namespace; none means loopback only. */
      network?: NamespacePool;
      services?: ServiceBinder;
      /** Which platforms can run (emulated ones through binfmt_misc); none means any. */
      platforms?: PlatformSupport;
    },
  ) {}

  run(v: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    return this.launch(v, inputs, ctx, { commit: true });
  }

  /**
   * Run the container of exec vertex `v`. With `commit`, its filesystem
   * changes become snapshots; without, they are dropped (services).
   */
  async launch(v: Vertex, inputs: readonly Result[], ctx: SolveContext, opts: LaunchOptions): Promise<Result> {
    const op = v.op as unknown as ExecOp;
    this.deps.platforms?.check(op.platform);
    const { snapshots } = this.deps;
    const sources = op.rootfs ? inputs.slice(1) : inputs;
    const id = `exec-${randomBytes(6).toString("hex")}`;
    const dir = path.join(this.deps.runDir, id);
    const unmounts = new Cleanup();
    const actives: Array<{ active: ActiveSnapshot; name: string; mountIndex?: number }> = [];
    try {
      const parentName = op.rootfs ? inputs[0]?.snapshot : undefined;
      const root = await snapshots.prepare(parentName === undefined ? undefined : snapshots.get(parentName));
      actives.push({ active: root, name: `exec/${digestHex(v.digest)}` });
      const rootfs = path.join(dir, "rootfs");
      await this.#mountAt(snapshots.mounts(root), rootfs, unmounts);

      const specMounts: SpecMount[] = [];
      for (const [k, m] of op.mounts.entries()) {
        if (m.type !== "dir" && m.type !== "file") continue;
        const sourceName = sources[m.input]?.snapshot;
        const source = sourceName === undefined ? undefined : snapshots.get(sourceName);
        const at = path.join(dir, `m${k}`);
        let base: string;
        if (m.type === "dir" && !m.readOnly) {
          const active = await snapshots.prepare(source);
          actives.push({ active, name: `exec/${digestHex(v.digest)}/m${k}`, mountIndex: k });
          await this.#mountAt(snapshots.mounts(active), at, unmounts);
          base = m.path === "/" ? at : await mkdirInRoot(at, m.path);
        } else if (!source) {
          await fs.mkdir(at, { recursive: true });
          unmounts.defer(() => fs.rm(at, { recursive: true, force: true }));
          base = at;
        } else if (source.chain.length === 1) {
          base = await resolveInRoot(snapshots.layerDir(source), m.path, { followLast: true });
        } else {
          await this.#mountAt(snapshots.viewMounts(source), at, unmounts);
          base = await resolveInRoot(at, m.path, { followLast: true });
        }
        specMounts.push({ destination: m.target, type: "bind", source: base, options: ["rbind", m.readOnly || m.type === "file" ? "ro" : "rw"] });
      }

      const secrets = new SecretFiles(op, ctx);
      specMounts.push(...(await secrets.mount(path.join(dir, "secrets"), rootfs, unmounts)));
      const output = await this.#runIn(id, rootfs, op, specMounts, v, ctx, secrets, opts);
      await unmounts.run();
      if (!opts.commit) return { meta: { ...output } };
      if (!expected(op.expect, output.exitCode)) {
        throw new ExecError({ cmd: op.args, exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr });
      }
      const committed: Record<string, string> = {};
      let rootName: string | undefined;
      for (const a of actives.splice(0)) {
        const snap = await snapshots.commit(a.active, a.name);
        if (a.mountIndex === undefined) rootName = snap.name;
        else committed[String(a.mountIndex)] = snap.name;
      }
      const meta: ExecResultMeta = { ...output, ...(Object.keys(committed).length > 0 ? { mounts: committed } : {}) };
      return { ...(rootName !== undefined ? { snapshot: rootName } : {}), meta: { ...meta } };
    } finally {
      await unmounts.run();
      for (const a of actives) await snapshots.abort(a.active);
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async #mountAt(m: import("../mount/types.js").Mount, at: string, cleanup: Cleanup): Promise<void> {
    await fs.mkdir(at, { recursive: true });
    await mount(m, at);
    cleanup.defer(() => unmount(at).catch(() => unmount(at, { detach: true })));
  }

  async #runIn(
    id: string,
    rootfs: string,
    op: ExecOp,
    extraMounts: SpecMount[],
    v: Vertex,
    ctx: SolveContext,
    secrets: SecretFiles,
    opts: LaunchOptions,
  ): Promise<Omit<ExecResultMeta, "mounts">> {
    const user = op.user ? await resolveUser(op.user, rootfs) : { uid: 0, gid: 0, additionalGids: [] };
    await mkdirInRoot(rootfs, op.cwd);
    const leases: AsyncDisposable[] = [];
    const cleanupAfterRun = new Cleanup();
    try {
      const mounts: SpecMount[] = [];
      checkVolumeConflicts(op.mounts.flatMap((m) => (m.type === "cache" ? [m] : [])));
      for (const m of op.mounts) {
        if (m.type === "cache") {
          const lease = await this.deps.volumes.acquire(m.key, m.sharing, ctx.signal ? { signal: ctx.signal } : {});
          leases.push(lease);
          mounts.push({ destination: m.target, type: "bind", source: lease.dir, options: ["rbind", "rw"] });
        } else if (m.type === "tmpfs") {
          const size = m.size ? [`size=${m.size}`] : [];
          mounts.push({ destination: m.target, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", ...size] });
        }
      }
      mounts.push(...extraMounts);
      const extraHosts: HostEntry[] = [];
      for (const binding of op.services ?? []) {
        if (!this.deps.services) throw new FailedPreconditionError("this engine cannot run services");
        const bound = await this.deps.services.bind(binding.service, ctx);
        cleanupAfterRun.defer(() => bound.release());
        extraHosts.push({ name: binding.alias, ip: bound.ip });
      }
      const net = await this.#network(rootfs, ctx, cleanupAfterRun, { ...(opts.hostname ? { hostname: opts.hostname } : {}), extraHosts });
      if (net) {
        mounts.push(...net.mounts);
        opts.onNamespace?.(net.ns);
      }
      const out = new OutputCollector(v, ctx, secrets.scrubList());
      const { exitCode } = await this.deps.executor.run(
        id,
        {
          rootfs,
          mounts,
          process: { args: op.args, env: [...op.env, ...secrets.env()], cwd: op.cwd, user },
          ...(net ? { network: { netnsPath: net.ns.path } } : {}),
        },
        {
          ...(op.stdin !== undefined ? { stdin: op.stdin } : {}),
          stdout: (b) => out.add(1, b),
          stderr: (b) => out.add(2, b),
        },
        ctx.signal ? { signal: ctx.signal } : {},
      );
      const result = { exitCode, ...out.finish() };
      if (op.redirectStdout) await writeInRoot(rootfs, op.redirectStdout, result.stdout);
      if (op.redirectStderr) await writeInRoot(rootfs, op.redirectStderr, result.stderr);
      return result;
    } finally {
      await cleanupAfterRun.run();
      for (const lease of leases) await lease[Symbol.asyncDispose]();
    }
  }

  /**
   * A namespace from the pool, with the resolv.conf and hosts files bound in.
   * runc creates a missing mount target in the rootfs; such empty files are
   * removed after the run, so they never reach the committed diff.
   */
  async #network(
    rootfs: string,
    ctx: SolveContext,
    cleanup: Cleanup,
    names: { hostname?: string; extraHosts: HostEntry[] },
  ): Promise<{ ns: NetworkNamespace; mounts: SpecMount[] } | undefined> {
    const pool = this.deps.network;
    if (!pool) return undefined;
    const ns = await pool.acquire({ ...names, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    cleanup.defer(() => pool.release(ns));
    const mounts: SpecMount[] = [];
    for (const [target, source] of [
      ["/etc/resolv.conf", ns.resolvConf],
      ["/etc/hosts", ns.hostsFile],
    ] as const) {
      const host = await resolveInRoot(rootfs, target);
      const existed = await fs.lstat(host).then(
        () => true,
        () => false,
      );
      if (!existed) cleanup.defer(() => fs.rm(host, { force: true }));
      mounts.push({ destination: target, type: "bind", source, options: ["rbind", "ro"] });
    }
    return { ns, mounts };
  }
}

/** Selects a writable mount's output snapshot from an exec result. */
export class OutputOpRunner implements OpRunner {
  readonly kind = "output";
  readonly cacheable = false;
  async run(v: Vertex, inputs: readonly Result[]): Promise<Result> {
    const k = String(v.op["mount"]);
    const name = (inputs[0]?.meta as ExecResultMeta | undefined)?.mounts?.[k];
    return name === undefined ? { meta: {} } : { snapshot: name, meta: {} };
  }
}

function expected(expect: ExecOp["expect"], exitCode: number): boolean {
  if (expect === "ANY") return true;
  return expect === "FAILURE" ? exitCode !== 0 : exitCode === 0;
}

async function writeInRoot(rootfs: string, file: string, data: string): Promise<void> {
  await mkdirInRoot(rootfs, path.posix.dirname(file));
  await fs.writeFile(await resolveInRoot(rootfs, file), data);
}

/** Collects a process's output and forwards it as progress log events. */
class OutputCollector {
  readonly #chunks: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  readonly #sizes: Record<1 | 2, number> = { 1: 0, 2: 0 };
  readonly #combined: Buffer[] = [];
  readonly #live: Record<1 | 2, StreamScrubber>;
  constructor(
    private readonly v: Vertex,
    private readonly ctx: SolveContext,
    private readonly secrets: string[],
  ) {
    this.#live = { 1: new StreamScrubber(secrets), 2: new StreamScrubber(secrets) };
  }

  add(stream: 1 | 2, chunk: Buffer): void {
    this.#chunks[stream].push(chunk);
    this.#combined.push(chunk);
    this.#sizes[stream] += chunk.length;
    while (this.#sizes[stream] > MAX_OUTPUT && this.#chunks[stream].length > 1) {
      this.#sizes[stream] -= this.#chunks[stream].shift()!.length;
    }
    const data = this.#live[stream].push(chunk.toString("utf8"));
    if (data) this.ctx.progress?.({ type: "log", vertex: this.v.digest, stream, data });
  }

  /** The output, with every secret value masked: this is what gets cached and shown. */
  finish(): Omit<ExecResultMeta, "exitCode" | "mounts"> {
    for (const stream of [1, 2] as const) {
      const data = this.#live[stream].flush();
      if (data) this.ctx.progress?.({ type: "log", vertex: this.v.digest, stream, data });
    }
    return {
      stdout: scrub(Buffer.concat(this.#chunks[1]).toString("utf8"), this.secrets),
      stderr: scrub(Buffer.concat(this.#chunks[2]).toString("utf8"), this.secrets),
      combined: scrub(Buffer.concat(this.#combined).toString("utf8"), this.secrets).slice(-2 * MAX_OUTPUT),
    };
  }
}

/**
 * An exec's secrets: values from the session, as environment variables and
 * as files on a private tmpfs (so they never touch the disk), and the list of
 * values to mask in its output.
 */
class SecretFiles {
  constructor(
    private readonly op: ExecOp,
    private readonly ctx: SolveContext,
  ) {}

  #value(key: SecretKey): string {
    if (!this.ctx.secrets) throw new FailedPreconditionError(`secret "${key.name}" is not available here`);
    return this.ctx.secrets.plaintext(key);
  }

  env(): string[] {
    return (this.op.secretEnv ?? []).map(({ name, secret }) => `${name}=${this.#value(secret)}`);
  }

  scrubList(): string[] {
    const used = [...(this.op.secretEnv ?? []).map((e) => e.secret), ...this.op.mounts.flatMap((m) => (m.type === "secret" ? [m.secret] : []))];
    return [...new Set([...used.map((k) => this.#value(k)), ...(this.ctx.secrets?.values() ?? [])])];
  }

  async mount(dir: string, rootfs: string, cleanup: Cleanup): Promise<SpecMount[]> {
    const secretMounts = this.op.mounts.filter((m): m is Extract<ExecMount, { type: "secret" }> => m.type === "secret");
    if (secretMounts.length === 0) return [];
    await fs.mkdir(dir, { recursive: true });
    await mount({ type: "tmpfs", source: "tmpfs", options: ["mode=0700", "size=4m"] }, dir);
    cleanup.defer(() => unmount(dir).catch(() => unmount(dir, { detach: true })));
    const out: SpecMount[] = [];
    for (const [i, m] of secretMounts.entries()) {
      const file = path.join(dir, String(i));
      await fs.writeFile(file, this.#value(m.secret), { mode: m.mode });
      await fs.chmod(file, m.mode);
      if (m.owner) {
        const { uid, gid } = await resolveUser(m.owner, rootfs);
        await fs.chown(file, uid, gid);
      }
      out.push({ destination: m.target, type: "bind", source: file, options: ["rbind", "ro"] });
    }
    return out;
  }
}
