/**
 * The engine over one state directory: its start (repair, then the layers of
 * layers.ts, the network and the sessions), GC policy and stop.
 *
 *   <root>/metadata.db   SQLite state (snapshots, cache records, volumes)
 *   <root>/content       content-addressed blobs
 *   <root>/snapshots     overlay layers
 *   <root>/volumes       cache volumes
 *   <root>/git           bare cache repositories of git sources (per URL)
 *   <root>/hostsync      mirrors of client directories
 *   <root>/runc          runc's state (private to this engine)
 *   <root>/run           mount points and bundles of running work
 *
 * `open` also repairs what a crash may have left: mounts under run/, runc
 * containers, ingest files, active snapshots.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ClientCaches } from "../cache/client-caches.js";
import { type Explanation, explainRecipe, rootsOf } from "../cache/explain.js";
import type { RegistryCache } from "../cache/registry-cache.js";
import type { VolumeRegistryDeps } from "../cache/volume-registry.js";
import type { EngineConfig } from "../config/engine-config.js";
import { decodeId } from "../core/ids.js";
import type { CoreDeps } from "../core/types.js";
import { messageOf } from "../errors.js";
import { prepareBundleDir, removeLegacyRuncState, runcStateDir } from "../executor/bundle-dir.js";
import { RuncExecutor } from "../executor/runc-executor.js";
import type { Collector } from "../gc/collector.js";
import { keepTarget } from "../gc/policy.js";
import type { Database } from "../metadata/database.js";
import { unmountAll } from "../mount/mount.js";
import { nativeMountProblem } from "../mount/native-mount.js";
import { CniNetwork } from "../network/cni-network.js";
import type { CacheVolumes } from "../ops/cache-volumes.js";
import { type ContainerDirs, prepareContainerDirs } from "../ops/container-dirs.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { Solver } from "../solver/solver.js";
import { loadOtlp } from "../telemetry/otlp-env.js";
import { VERSION } from "../version.js";
import { ensureReserve, withReserve } from "./disk-reserve.js";
import { IdleMemory } from "./idle-memory.js";
import { composeLayers } from "./layers.js";
import type { Logger } from "./log.js";
import { NestingServer } from "./nesting.js";
import { CACHE_CONFIG_LABELS, SessionManager } from "./sessions.js";
import { claimRoot, releaseRoot, secretSalt, secureStateDir } from "./state-dir.js";

export class Engine {
  /** The platforms containers can run on, native first (emulated ones through binfmt_misc). */
  platforms: readonly string[] = [];
  /** The remote cache of engine.toml's [cache], when configured. */
  remoteCache: RegistryCache | undefined;

  private constructor(
    readonly sessions: SessionManager,
    readonly collector: Collector,
    readonly config: EngineConfig,
    readonly log: Logger,
    readonly deps: CoreDeps,
    readonly solver: Solver,
    private readonly db: Database,
    private readonly executor: RuncExecutor,
    private readonly registry: RegistryClient,
    private readonly runDir: string,
    readonly network: CniNetwork | undefined,
    readonly volumes: CacheVolumes,
  ) {
    this.idleMemory = new IdleMemory({ busy: () => this.sessions.size > 0 || this.#gcRunning !== undefined, log });
    const { images, exporter, snapshots } = deps;
    this.clientCaches = new ClientCaches({ registry, images, exporter, snapshots, warn: (message, fields) => log.warn(message, fields) });
  }

  static async open(config: EngineConfig, log: Logger): Promise<Engine> {
    const root = path.resolve(config.root);
    // Private to root from the first moment (also an existing root from an older engine).
    await secureStateDir(root);
    await claimRoot(root);
    const runDir = path.join(root, "run");
    const bundleDir = path.join(runDir, "bundles");
    // runc's state lives on the bundles' tmpfs too (see bundle-dir.ts).
    const executor = new RuncExecutor({ root: runcStateDir(bundleDir), bundleDir });
    // Containers first (they hold mounts), then the mounts themselves.
    log.debug("repairing what a previous engine left", { root });
    await executor.cleanup();
    await removeLegacyRuncState(root);
    const relays = await NestingServer.repair(runDir);
    if (relays > 0) log.warn("stopped nesting relays left by a previous engine", { count: relays });
    const addonProblem = nativeMountProblem();
    if (addonProblem !== undefined) log.warn(addonProblem.message);
    const leftover = await unmountAll(runDir);
    if (leftover > 0) log.warn("removed mounts left by a previous engine", { count: leftover });
    await fs.rm(runDir, { recursive: true, force: true });
    // Bundles (config.json holds secret env values) on a tmpfs: never on the state filesystem. Its
    // mount (on the thread pool, or a host command through the process helper still starting) runs
    // in the background: runs wait for it (and fail with its error), the start and queries do not.
    const bundlesReady = prepareBundleDir(bundleDir);
    executor.bundleDirPreparing(bundlesReady);
    bundlesReady.catch((err: unknown) => log.error("cannot mount the tmpfs for container bundles: containers cannot run", { error: messageOf(err) }));
    // Each container's mount points, secret files and sockets on a tmpfs as well: made and removed
    // per exec, they cost the state filesystem nothing (see ContainerDirs).
    const containersDir = path.join(runDir, "containers");
    const containers: ContainerDirs = { dir: containersDir, ready: prepareContainerDirs(containersDir) };
    containers.ready.catch((err: unknown) =>
      log.error("cannot mount the tmpfs for containers' mount points: containers cannot run", { error: messageOf(err) }),
    );
    try {
      return await Engine.#compose(config, log, root, runDir, containers, executor);
    } catch (err) {
      // A start refused half-way leaves no mount behind (the tmpfs would keep the state dir busy).
      await Promise.all([bundlesReady, containers.ready].map((p) => p.catch(() => undefined)));
      await unmountAll(runDir).catch(() => 0);
      throw err;
    }
  }

  /** Everything over the repaired state dir: the layers, the network, the sessions. */
  static async #compose(config: EngineConfig, log: Logger, root: string, runDir: string, containers: ContainerDirs, executor: RuncExecutor): Promise<Engine> {
    // Also removes what a crashed engine left of its network. Turned off in engine.toml: loopback only.
    const network = config.network.enabled
      ? new CniNetwork({
          stateDir: path.join(root, "network"),
          name: config.network.name,
          subnet: config.network.cidr,
          poolSize: config.network.poolSize,
          log,
        })
      : undefined;
    // Repair and checks run alongside the rest of the start; bridge, DNS and the
    // pool come up while the engine starts serving (execs wait for them).
    const networkChecked = network?.startInBackground();
    networkChecked?.catch(() => undefined);

    let sessions: SessionManager | undefined;
    const { deps, db, registry, collector, volumes, nesting, coreSchema, platforms, remoteCache } = await composeLayers({
      config,
      log,
      root,
      runDir,
      containers,
      executor,
      network,
      sessions: () => sessions,
    });
    const { leases, services } = deps;
    // The core schema (~15 ms of compute) while the network's checks finish, so that the first
    // query does not wait for it.
    coreSchema();
    await networkChecked;
    // What the layers created just now (content, snapshots, volumes…) closed to other users as well.
    await secureStateDir(root);
    // Room for a cleanup on a full disk (taken when there is space).
    await ensureReserve(root);
    log.debug("state opened and network checked");
    let engine: Engine | undefined;
    // A session's end releases what it held, which may let the policy collect.
    sessions = new SessionManager(await secretSalt(root), coreSchema, (id) => {
      leases.releaseSession(id);
      services.endSession(id).catch((err: unknown) => log.warn("stopping a finished session's services failed", { session: id, error: messageOf(err) }));
      if (engine?.config.gc.enabled) void engine.autoGc();
      engine?.idleMemory.poke();
    });
    engine = new Engine(sessions, collector, config, log, deps, deps.solver, db, executor, registry, runDir, network, volumes);
    sessions.otlp = await loadOtlp(process.env, { name: "tanto-engine", version: VERSION });
    if (sessions.otlp)
      log.info("exporting spans over OTLP", { endpoint: process.env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] });
    engine.platforms = platforms;
    engine.remoteCache = remoteCache;
    nesting.attach(engine);
    return engine;
  }

  /** Memory back to the system once the last session ended (startup's too). */
  readonly idleMemory: IdleMemory;

  /** The remote caches sessions ask for (the client's `_EXPERIMENTAL_DAGGER_CACHE_CONFIG`…). */
  readonly clientCaches: ClientCaches;

  /** The remote cache a new session asks for in its labels, or undefined; a bad entry is an InvalidArgumentError naming it. */
  sessionRemoteCache(labels: Readonly<Record<string, string>>): RegistryCache | undefined {
    return this.clientCaches.forSession({
      both: labels[CACHE_CONFIG_LABELS.both],
      imports: labels[CACHE_CONFIG_LABELS.imports],
      exports: labels[CACHE_CONFIG_LABELS.exports],
    });
  }

  /** Push a cache volume to `ref` / make one from `ref` (cache/volume-registry.ts). */
  get volumeRegistry(): VolumeRegistryDeps {
    return { volumes: this.volumes, content: this.deps.exporter.content, registry: this.registry };
  }

  /** `tanto cache explain`: which ops of the object `id` names would run, and what differs from the closest records. */
  explain(id: string): Explanation {
    return explainRecipe(this.db, rootsOf(decodeId(id).state));
  }

  #gcTimer: NodeJS.Timeout | undefined;
  #gcRunning: Promise<void> | undefined;

  /** Apply the GC policy now and every minute (and soon after each session ends). */
  startAutoGc(): void {
    this.#gcTimer = setInterval(() => void this.autoGc(), 60_000).unref();
    this.idleMemory.poke();
  }

  /** One pass of the automatic policy; passes never overlap, and none starts once the engine is closing. */
  autoGc(): Promise<void> {
    if (this.#closing !== undefined) return Promise.resolve();
    this.#gcRunning ??= (async () => {
      try {
        const usage = await this.collector.usage();
        const keep = await keepTarget(this.config.gc, this.config.root, usage.total);
        if (keep === undefined) return;
        const result = await withReserve(path.resolve(this.config.root), () => this.collector.prune({ keepBytes: keep }));
        this.log.info("garbage collected", {
          freed_bytes: result.freedBytes,
          removed: JSON.stringify(result.removedByKind),
          records: result.removedRecords,
          usage_after: result.usageAfter,
        });
      } catch (err) {
        this.log.warn("garbage collection failed", { error: messageOf(err) });
      } finally {
        this.#gcRunning = undefined;
        // A pass leaves garbage of its own (listings, sizes): a pending idle collection comes after it.
        this.idleMemory.defer();
      }
    })();
    return this.#gcRunning;
  }

  /** Throws unless the engine can serve: its database answers a read. */
  healthCheck(): void {
    this.db.prepare("SELECT 1").get();
  }

  #closing: string | undefined;

  /** What close() is doing now (undefined before it started): named when a shutdown takes too long. */
  get closing(): string | undefined {
    return this.#closing;
  }

  /**
   * Stop: end sessions (cancelling their work), kill containers, unmount,
   * close state. A GC pass under way is given a few seconds; what it had not
   * finished is left to the next one (its moved-aside directories go at the
   * next start).
   */
  async close(): Promise<void> {
    this.#closing = "waiting for a GC pass";
    clearInterval(this.#gcTimer);
    this.idleMemory.close();
    if (this.#gcRunning) await Promise.race([this.#gcRunning, sleep(GC_WAIT_AT_CLOSE_MS)]);
    this.#closing = "ending sessions";
    this.sessions.endAll();
    this.#closing = "stopping services";
    await this.deps.services.stopAll();
    this.#closing = "stopping containers";
    await this.executor.shutdown();
    await this.executor.cleanup();
    this.#closing = "removing the network";
    await this.network?.close();
    this.#closing = "unmounting";
    await this.deps.snapshots.whenAllSettled();
    await unmountAll(this.runDir);
    this.#closing = "closing the database";
    this.registry.close();
    this.db.close();
    await this.sessions.otlp?.shutdown().catch(() => undefined);
    await releaseRoot(path.resolve(this.config.root));
    this.#closing = "closed";
  }
}

/** How long close() waits for a GC pass under way. */
const GC_WAIT_AT_CLOSE_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
