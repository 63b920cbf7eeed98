/**
 * The engine: every layer composed over one state directory.
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
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { ClientCaches } from "../cache/client-caches.js";
import { type Explanation, explainRecipe, rootsOf } from "../cache/explain.js";
import { RegistryCache } from "../cache/registry-cache.js";
import type { VolumeRegistryDeps } from "../cache/volume-registry.js";
import type { EngineConfig } from "../config/engine-config.js";
import { LocalContentStore } from "../content/local-content-store.js";
import { decodeId } from "../core/ids.js";
import { bindingRecipe } from "../core/service-run.js";
import type { CoreDeps } from "../core/types.js";
import { FailedPreconditionError, messageOf } from "../errors.js";
import { prepareBundleDir } from "../executor/bundle-dir.js";
import { Emulation } from "../executor/emulation.js";
import { RuncExecutor } from "../executor/runc-executor.js";
import { Collector } from "../gc/collector.js";
import { Leases } from "../gc/leases.js";
import { removeOrphans } from "../gc/orphans.js";
import { keepTarget } from "../gc/policy.js";
import { HostMirrors } from "../hostsync/host-mirror.js";
import { ImageExporter } from "../images/image-exporter.js";
import { ImageStore } from "../images/image-store.js";
import { LayerBlobs, layerCompressionOf } from "../images/layer-blobs.js";
import { type Database, openDatabase } from "../metadata/database.js";
import { baseParts } from "../modules/base-parts.js";
import { configureNestedSession } from "../modules/served.js";
import { unmountAll } from "../mount/mount.js";
import { CniNetwork } from "../network/cni-network.js";
import type { Network } from "../network/types.js";
import type { Digest } from "../oci/digest.js";
import { formatPlatform, hostPlatform } from "../oci/platform.js";
import { CacheVolumes } from "../ops/cache-volumes.js";
import { ChangesetMergeOpRunner } from "../ops/changeset-merge-op.js";
import { ExecOpRunner } from "../ops/exec-op.js";
import { FileOpRunner } from "../ops/file-op.js";
import { GitLocalOpRunner } from "../ops/git-local-op.js";
import { GitOpRunner } from "../ops/git-op.js";
import { HostDirOpRunner } from "../ops/host-dir-op.js";
import { HttpFileOpRunner } from "../ops/http-op.js";
import { ImageImportOpRunner, ImageTarballOpRunner } from "../ops/image-archive-ops.js";
import { ImageOpRunner } from "../ops/image-op.js";
import { OutputOpRunner } from "../ops/output-op.js";
import { RegistryClient } from "../registry/registry-client.js";
import { lazyCoreSchema } from "../schema/session-schema.js";
import { ServiceManager } from "../services/service-manager.js";
import { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { RecordBlobOwnership, SqliteCacheRecords } from "../solver/cache-records.js";
import { applyCacheVersion } from "../solver/cache-version.js";
import { SnapshotChecksums } from "../solver/content-checksums.js";
import { Solver } from "../solver/solver.js";
import { GitSource } from "../sources/git-source.js";
import { HttpSource } from "../sources/http-source.js";
import { loadOtlp } from "../telemetry/otlp-env.js";
import { limiter } from "../util/limit.js";
import { VERSION } from "../version.js";
import { ensureReserve, withReserve } from "./disk-reserve.js";
import { hostResync } from "./host-resync.js";
import { IdleMemory } from "./idle-memory.js";
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
    const executor = new RuncExecutor({ root: path.join(root, "runc"), bundleDir: path.join(runDir, "bundles") });
    // Containers first (they hold mounts), then the mounts themselves.
    log.debug("repairing what a previous engine left", { root });
    await executor.cleanup();
    const relays = await NestingServer.repair(runDir);
    if (relays > 0) log.warn("stopped nesting relays left by a previous engine", { count: relays });
    const leftover = await unmountAll(runDir);
    if (leftover > 0) log.warn("removed mounts left by a previous engine", { count: leftover });
    await fs.rm(runDir, { recursive: true, force: true });
    // Bundles (config.json holds secret env values) on a tmpfs: never on the state filesystem.
    await prepareBundleDir(path.join(runDir, "bundles"));
    try {
      return await Engine.#compose(config, log, root, runDir, executor);
    } catch (err) {
      // A start refused half-way leaves no mount behind (the bundles tmpfs would keep the state dir busy).
      await unmountAll(runDir).catch(() => 0);
      throw err;
    }
  }

  /** Everything over the repaired state dir: the layers, the network, the sessions. */
  static async #compose(config: EngineConfig, log: Logger, root: string, runDir: string, executor: RuncExecutor): Promise<Engine> {
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
    // Emulators for other platforms, registered with binfmt_misc when missing (alongside the rest of the start).
    const emulationReady = Emulation.setup({ log });

    const db = openDatabase(path.join(root, "metadata.db"));
    const content = await LocalContentStore.open(path.join(root, "content"));
    const snapshots = await OverlaySnapshotter.open(path.join(root, "snapshots"), db);
    const registry = new RegistryClient({ hosts: config.registries, userAgent: `tanto/${VERSION}` });
    const layerBlobs = new LayerBlobs(db);
    const images = new ImageStore(
      registry,
      content,
      snapshots,
      runDir,
      (snap, layer, diffId) => layerBlobs.record(snap.id, { compression: layerCompressionOf(layer.mediaType), digest: layer.digest, size: layer.size, diffId }),
      limiter(config.limits.layerPulls),
    );
    const exporter = new ImageExporter({ content, snapshots, layerBlobs, registry, exports: limiter(config.limits.exports) });
    const git = await GitSource.open(path.join(root, "git"));
    const http = new HttpSource(content, `tanto/${VERSION}`, limiter(config.limits.downloads));
    const volumes = new CacheVolumes(path.join(root, "volumes"), db);
    const leases = new Leases();
    const services = new ServiceManager({
      ...(network ? { exec: () => execRunner, network } : servicesWithoutNetwork()),
      recipeOf: bindingRecipe,
      maxServices: config.limits.services,
    });
    const emulation = await emulationReady;
    const coreSchema = lazyCoreSchema(baseParts);
    // Built on the first query, or just after the engine starts serving, whichever comes first:
    // health answers at once, and a first query later does not pay the ~100–200 ms build.
    setTimeout(coreSchema, SCHEMA_WARMUP_MS).unref();
    const nesting = new NestingServer({ runDir, coreSchema, configure: configureNestedSession });
    const execRunner = new ExecOpRunner({
      snapshots,
      executor,
      volumes,
      runDir,
      ...(network ? { network } : {}),
      services,
      platforms: emulation,
      nesting,
    });
    const saveListing = db.prepare("INSERT OR REPLACE INTO host_tree_listings (snapshot, entries) VALUES (?, ?)");
    const hostMirrors = new HostMirrors(path.join(root, "hostsync"), snapshots, (name, entries) => saveListing.run(name, JSON.stringify(entries)));
    const recordOwners = new RecordBlobOwnership(db);
    const collector = new Collector({
      snapshots,
      leases,
      content,
      layerBlobHolders: () => layerBlobs.holders(),
      layerBlobReferenced: (digest) => layerBlobs.isReferenced(digest),
      records: recordOwners,
      areas: { volumes, hostMirrors, gitCaches: git },
    });
    let sessions: SessionManager | undefined;
    const remoteCache =
      config.cache.imports.length + config.cache.exports.length > 0
        ? new RegistryCache({ registry, images, exporter, snapshots, warn: (message, fields) => log.warn(message, fields) }, config.cache)
        : undefined;
    const solver = new Solver({
      ...(remoteCache ? { remote: remoteCache } : {}),
      runners: [
        new ImageOpRunner(images),
        execRunner,
        new FileOpRunner({ snapshots, runDir }),
        new OutputOpRunner(),
        new HostDirOpRunner(
          snapshots,
          hostResync(hostMirrors, (client) => sessions?.ofClient(client) ?? []),
        ),
        new ImageTarballOpRunner({ exporter, snapshots }),
        new ImageImportOpRunner({ images, exporter, snapshots, runDir }),
        new GitOpRunner({ git, snapshots, runDir, services }),
        new GitLocalOpRunner({ snapshots, runDir }),
        new ChangesetMergeOpRunner({ snapshots, runDir }),
        new HttpFileOpRunner({ content, snapshots, http }),
      ],
      records: new SqliteCacheRecords(db, (digest) => existsSync(content.path(digest as Digest))),
      maxParallelism: config.maxParallelism,
      snapshotExists: (name) => snapshots.get(name)?.id,
      checksums: new SnapshotChecksums(snapshots, db, runDir),
    });
    const dropped = applyCacheVersion(db);
    if (dropped > 0) log.info("cache records of an older key format dropped", { records: dropped });
    // What a crash left that nothing references (nothing runs yet that could be about to).
    const orphans = await removeOrphans({ snapshots, content, layerBlobHolders: () => layerBlobs.holders(), records: recordOwners });
    const strays = snapshots.removedAtOpen;
    if (strays.strayDirs + strays.activeRows + orphans.snapshots + orphans.blobs > 0) {
      log.info("removed what nothing references", {
        snapshot_dirs: strays.strayDirs,
        active_snapshots: strays.activeRows,
        snapshots: orphans.snapshots,
        blobs: orphans.blobs,
        blob_bytes: orphans.blobBytes,
      });
    }
    services.attachSolver(solver);
    const deps: CoreDeps = {
      solver,
      images,
      exporter,
      snapshots,
      hostMirrors,
      leases,
      services,
      git,
      http,
      runDir,
      version: VERSION,
      defaultPlatform: formatPlatform(hostPlatform()),
      cache: {
        name: `tanto-${os.hostname()}`,
        root,
        policy: config.gc,
        usage: () => collector.usage(),
        prune: (opts) => collector.prune(opts),
        clients: () => sessions?.ids() ?? [],
      },
    };
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
    engine = new Engine(sessions, collector, config, log, deps, solver, db, executor, registry, runDir, network, volumes);
    sessions.otlp = await loadOtlp(process.env, { name: "tanto-engine", version: VERSION });
    if (sessions.otlp)
      log.info("exporting spans over OTLP", { endpoint: process.env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] });
    engine.platforms = emulation.platforms;
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
    await unmountAll(this.runDir);
    this.#closing = "closing the database";
    this.registry.close();
    this.db.close();
    await this.sessions.otlp?.shutdown().catch(() => undefined);
    await releaseRoot(path.resolve(this.config.root));
    this.#closing = "closed";
  }
}

/** When the core schema is built if no query asked for it first. */
const SCHEMA_WARMUP_MS = 250;

/** How long close() waits for a GC pass under way. */
const GC_WAIT_AT_CLOSE_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * What the ServiceManager gets when engine.toml turns networking off: a service
 * is only reachable through the network, so starting one fails up front (before
 * its container runs) instead of waiting for a namespace that never comes.
 * Every member of the stand-in network fails the same way, however Network grows.
 */
function servicesWithoutNetwork(): Omit<ConstructorParameters<typeof ServiceManager>[0], "recipeOf"> {
  const disabled = (): never => {
    throw new FailedPreconditionError("networking is disabled in engine.toml ([network] enabled = false): services cannot run");
  };
  const rejected = async (): Promise<never> => disabled();
  // Not a thenable: `then` stays undefined so the object can never be mistaken for a promise.
  const network = new Proxy({} as Network, { get: (_target, key) => (key === "then" ? undefined : rejected) });
  return { exec: disabled, network };
}
