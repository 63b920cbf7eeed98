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
import { lstatSync, mkdirSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ExecError, FailedPreconditionError } from "../errors.js";
import type { PlatformSupport } from "../executor/emulation.js";
import type { Executor, ExitStatus, ProcessIO, RunSpec } from "../executor/types.js";
import { resolveUser } from "../executor/user.js";
import { mkdirInRoot, resolveInRoot } from "../fsutil/in-root.js";
import { mount, unmount } from "../mount/mount.js";
import type { HostEntry, NamespacePool, NetworkNamespace, ServiceIsolation } from "../network/types.js";
import { digestHex } from "../oci/digest.js";
import type { Mount as SpecMount } from "../oci/runtime-spec.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { ActiveSnapshot } from "../snapshots/types.js";
import type { ContentInput, OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";
import { type CacheVolumes, checkVolumeConflicts } from "./cache-volumes.js";
import type { ContainerDirs } from "./container-dirs.js";
import { debugFailedExec } from "./exec-debug.js";
import { cacheSeed, readRedirect, ServiceWatch, writeRedirect } from "./exec-extras.js";
import { OutputCollector } from "./exec-output.js";
import { Cleanup, SecretFiles } from "./exec-secrets.js";
import type { ExecOp, ExecResultMeta, LaunchOptions, ServiceBinder } from "./exec-types.js";
import type { NestedClient, NestingHost, NestingSpec } from "./nesting.js";
import { forwardSockets } from "./socket-forward.js";
import { mountVolumes } from "./sshfs-volumes.js";

export class ExecOpRunner implements OpRunner {
  readonly kind = "exec";
  readonly cacheable = true;

  constructor(
    private readonly deps: {
      snapshots: OverlaySnapshotter;
      executor: Executor;
      volumes: CacheVolumes;
      /** Where each container gets its mount points, secret files and sockets. */
      containers: ContainerDirs;
      /** Where containers get their network namespace; none means loopback only. */
      network?: NamespacePool & Pick<ServiceIsolation, "allow">;
      services?: ServiceBinder;
      /** Which platforms can run (emulated ones through binfmt_misc); none means any. */
      platforms?: PlatformSupport;
      /** Serves nested clients (privileged nesting). */
      nesting?: NestingHost;
    },
  ) {}

  /** Where the containers run (a service's graceful stop signals its container). */
  get executor(): Executor {
    return this.deps.executor;
  }

  /** One more process in the running container `id` that exec `v` launched (a service's), as `v`'s own user, with its env and workdir. */
  async execIn(id: string, v: Vertex, args: string[], extraEnv: string[], io: ProcessIO, signal?: AbortSignal): Promise<number> {
    const op = v.op as unknown as ExecOp;
    const user = op.user ? await resolveUser(op.user, path.join(this.deps.containers.dir, id, "rootfs")) : { uid: 0, gid: 0, additionalGids: [] };
    const process = { args, env: [...op.env, ...extraEnv], cwd: op.cwd, user };
    return (await this.deps.executor.exec(id, process, io, signal ? { signal } : {})).exitCode;
  }

  run(v: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    return this.launch(v, inputs, ctx, { commit: true });
  }

  /** Mounted directories and files key the cache by content (a writable one by its whole source: all of it is copied out). */
  contentInputs(v: Vertex): ContentInput[] {
    const op = v.op as unknown as ExecOp;
    const first = op.rootfs ? 1 : 0;
    return op.mounts.flatMap((m) =>
      m.type === "dir" || m.type === "file" ? [{ input: first + m.input, path: m.type === "dir" && !m.readOnly ? "/" : m.path }] : [],
    );
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
    const id = opts.containerId ?? `exec-${randomBytes(6).toString("hex")}`;
    const dir = path.join(this.deps.containers.dir, id);
    const unmounts = new Cleanup();
    const actives: Array<{ active: ActiveSnapshot; name: string; mountIndex?: number }> = [];
    /** Set once the unmounts and removals are handed to the background (after a commit). */
    let background = false;
    /** Settles the snapshots committed while mounted (see below). */
    let unmounted: (() => void) | undefined;
    try {
      const parentName = op.rootfs ? inputs[0]?.snapshot : undefined;
      await this.deps.containers.ready;
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
          await snapshots.whenSettled(source);
          await this.#mountAt(snapshots.viewMounts(source), at, unmounts);
          base = await resolveInRoot(at, m.path, { followLast: true });
        }
        specMounts.push({ destination: m.target, type: "bind", source: base, options: ["rbind", m.readOnly || m.type === "file" ? "ro" : "rw"] });
      }

      const secrets = new SecretFiles(op, ctx);
      specMounts.push(...(await secrets.mount(path.join(dir, "secrets"), rootfs, unmounts)));
      const sockets = await forwardSockets(op.mounts, path.join(dir, "sockets"), rootfs, ctx.session);
      unmounts.defer(sockets.close);
      specMounts.push(...sockets.mounts);
      specMounts.push(...(await mountVolumes(op.mounts, op.origin?.volumes, path.join(dir, "volumes"), ctx, unmounts, this.deps.services)));
      const output = await this.#runIn(id, rootfs, op, specMounts, v, ctx, secrets, opts, sources);
      if (!opts.commit) return { meta: { ...output } };
      if (!expected(op.expect, output.exitCode)) {
        const err = new ExecError({ cmd: op.args, exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr });
        throw output.nested === undefined ? err : Object.assign(err, { nested: output.nested });
      }
      // The container has exited, so nothing writes to the upper directories any more: they are
      // committed while still mounted, and the unmounts (spawns, and the kernel's teardown) and
      // removals run after the answer. The snapshotter holds back any mount of the new snapshots
      // until then (see OverlaySnapshotter.commit).
      const released = new Promise<void>((resolve) => (unmounted = resolve));
      const committed: Record<string, string> = {};
      let rootName: string | undefined;
      while (actives.length > 0) {
        const a = actives[0]!;
        const snap = await snapshots.commit(a.active, a.name, { unmounted: released });
        actives.shift();
        if (a.mountIndex === undefined) rootName = snap.name;
        else committed[String(a.mountIndex)] = snap.name;
      }
      background = true;
      const settle = unmounted;
      setImmediate(() => {
        void unmounts
          .run()
          .then(() => fs.rm(dir, { recursive: true, force: true }))
          .catch(() => undefined)
          .finally(settle);
      });
      const meta: ExecResultMeta = { ...output, ...(Object.keys(committed).length > 0 ? { mounts: committed } : {}) };
      // The record owns the mounts' snapshots: the output op returns them later.
      const owns = Object.keys(committed).length > 0 ? { owns: { snapshots: Object.values(committed) } } : {};
      return { ...(rootName !== undefined ? { snapshot: rootName } : {}), meta: { ...meta }, ...owns };
    } finally {
      if (!background) {
        await unmounts.run();
        // A commit that failed half-way: what it committed was waiting for these unmounts.
        unmounted?.();
        for (const a of actives) await snapshots.abort(a.active);
        await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
    }
  }

  async #mountAt(m: import("../mount/types.js").Mount, at: string, cleanup: Cleanup): Promise<void> {
    // One short system call: cheaper than a thread-pool round trip on the way to the container's start.
    mkdirSync(at, { recursive: true });
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
    sources: readonly Result[],
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
          const lease = await this.deps.volumes.acquire(m.key, m.sharing, {
            seed: cacheSeed(m, sources, { snapshots: this.deps.snapshots, scratchDir: this.deps.containers.dir }, rootfs),
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          leases.push(lease);
          mounts.push({ destination: m.target, type: "bind", source: lease.dir, options: ["rbind", "rw"] });
        } else if (m.type === "tmpfs") {
          const size = m.size ? [`size=${m.size}`] : [];
          mounts.push({ destination: m.target, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", ...size] });
        }
      }
      mounts.push(...extraMounts);
      const extraHosts: HostEntry[] = [];
      const gone = new ServiceWatch();
      for (const binding of op.services ?? []) {
        if (!this.deps.services) throw new FailedPreconditionError("this engine cannot run services");
        const services = this.deps.services;
        // Waiting for a service (and the solves it needs) holds no parallelism slot.
        const bound = await (ctx.outsideSlot ?? run)(() => services.bind(binding.service, ctx));
        cleanupAfterRun.defer(() => bound.release());
        extraHosts.push({ name: binding.alias, ip: bound.ip });
        gone.watch(binding.alias, bound.ended);
      }
      const net = await this.#network(rootfs, ctx, cleanupAfterRun, {
        ...(opts.hostname ? { hostname: opts.hostname } : {}),
        extraHosts,
        privileged: op.insecureRootCapabilities === true,
        reaches: extraHosts.map((h) => h.ip),
      });
      if (net) {
        mounts.push(...net.mounts);
        opts.onNamespace?.(net.ns);
      }
      await opts.beforeRun?.();
      const nested = op.nesting ? await this.#nest(op.nesting, net?.ns.path, rootfs, ctx, cleanupAfterRun) : undefined;
      const out = new OutputCollector(v, ctx, secrets.scrubList());
      const spec: RunSpec = {
        rootfs,
        mounts,
        process: { args: op.args, env: [...op.env, ...(op.origin?.volatileEnv ?? []), ...secrets.env(), ...(nested?.env ?? [])], cwd: op.cwd, user },
        ...(net ? { network: { netnsPath: net.ns.path } } : {}),
        ...(op.insecureRootCapabilities ? { insecureRootCapabilities: true } : {}),
      };
      const io: ProcessIO = opts.terminal
        ? { terminal: opts.terminal }
        : {
            ...(op.redirectStdin ? { stdin: await readRedirect(rootfs, mounts, op.redirectStdin) } : op.stdin !== undefined ? { stdin: op.stdin } : {}),
            stdout: (b) => out.add(1, b),
            stderr: (b) => out.add(2, b),
          };
      const { exitCode } = await this.deps.executor
        .run(id, spec, io, { signal: ctx.signal ? AbortSignal.any([ctx.signal, gone.signal]) : gone.signal })
        .then(...gone.settle<ExitStatus>());
      // An interactive client (`-i`) gets a shell in what the failed command left, before anything is cleaned up.
      if (opts.commit && !expected(op.expect, exitCode)) await debugFailedExec(this.deps.executor, `${id}-debug`, spec, op.args, exitCode, ctx);
      const returned = nested?.result();
      const result = { exitCode, ...out.finish(), ...(returned !== undefined ? { nested: returned } : {}) };
      if (op.redirectStdout) await writeRedirect(rootfs, mounts, op.redirectStdout, result.stdout);
      if (op.redirectStderr) await writeRedirect(rootfs, mounts, op.redirectStderr, result.stderr);
      return result;
    } finally {
      await cleanupAfterRun.run();
      for (const lease of leases) await lease[Symbol.asyncDispose]();
    }
  }

  async #nest(spec: NestingSpec, netnsPath: string | undefined, rootfs: string, ctx: SolveContext, cleanup: Cleanup): Promise<NestedClient> {
    if (!this.deps.nesting) throw new FailedPreconditionError("this engine cannot serve nested clients (experimentalPrivilegedNesting)");
    if (!netnsPath) throw new FailedPreconditionError("experimentalPrivilegedNesting needs networking, which engine.toml turns off");
    const nested = await this.deps.nesting.open({ netnsPath, rootfs, ctx, spec, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    cleanup.defer(() => nested.close());
    return nested;
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
    names: { hostname?: string; extraHosts: HostEntry[]; privileged: boolean; reaches: string[] },
  ): Promise<{ ns: NetworkNamespace; mounts: SpecMount[] } | undefined> {
    const pool = this.deps.network;
    if (!pool) return undefined;
    const { privileged, reaches, ...ask } = names;
    const scope = (ctx.session as { id?: string } | undefined)?.id;
    const ns = await pool.acquire({ ...ask, ...(scope ? { scope } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    // A privileged container may have changed its namespace (routes, rules): never reuse it.
    // Releasing also takes back what the namespace was allowed to reach.
    cleanup.defer(() => pool.release(ns, privileged ? { discard: true } : {}));
    // The services it binds are isolated to their session: let this namespace in, whatever its session.
    for (const ip of new Set(reaches)) await pool.allow(ns.ip, ip);
    const files = [
      ["/etc/resolv.conf", ns.resolvConf],
      ["/etc/hosts", ns.hostsFile],
    ] as const;
    // A few short synchronous file system calls each (resolveInRoot's too) on the way to the container's start.
    for (const [target] of files) {
      const host = await resolveInRoot(rootfs, target);
      if (!present(host)) cleanup.defer(() => fs.rm(host, { force: true }));
    }
    return { ns, mounts: files.map(([destination, source]) => ({ destination, type: "bind", source, options: ["rbind", "ro"] })) };
  }
}

function present(file: string): boolean {
  try {
    return lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

function run<T>(work: () => Promise<T>): Promise<T> {
  return work();
}

function expected(expect: ExecOp["expect"], exitCode: number): boolean {
  if (expect === "ANY") return true;
  return expect === "FAILURE" ? exitCode !== 0 : exitCode === 0;
}
