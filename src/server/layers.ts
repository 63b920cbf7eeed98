/**
 * The engine's layers composed over its repaired state directory: the stores
 * (metadata, content, snapshots, volumes, git and HTTP sources), the op
 * runners and the solver over them, the services and the collector. Also
 * applies what an older engine or a crash left to the records (key format,
 * orphans) before anything runs. Engine.open (engine.ts) repairs the state
 * directory first, and adds the sessions, the network and the lifecycle.
 */
import { existsSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RegistryCache } from "../cache/registry-cache.js";
import type { EngineConfig } from "../config/engine-config.js";
import { LocalContentStore } from "../content/local-content-store.js";
import { bindingRecipe } from "../core/service-run.js";
import type { CoreDeps } from "../core/types.js";
import { FailedPreconditionError } from "../errors.js";
import { Emulation } from "../executor/emulation.js";
import type { RuncExecutor } from "../executor/runc-executor.js";
import { Collector } from "../gc/collector.js";
import { Leases } from "../gc/leases.js";
import { removeOrphans } from "../gc/orphans.js";
import { HostMirrors } from "../hostsync/host-mirror.js";
import { ImageExporter } from "../images/image-exporter.js";
import { ImageStore } from "../images/image-store.js";
import { LayerBlobs, layerCompressionOf } from "../images/layer-blobs.js";
import { type Database, openDatabase } from "../metadata/database.js";
import { baseParts } from "../modules/base-parts.js";
import { configureNestedSession } from "../modules/served.js";
import type { CniNetwork } from "../network/cni-network.js";
import type { Network } from "../network/types.js";
import type { Digest } from "../oci/digest.js";
import { formatPlatform, hostPlatform } from "../oci/platform.js";
import { CacheVolumes } from "../ops/cache-volumes.js";
import { ChangesetMergeOpRunner } from "../ops/changeset-merge-op.js";
import type { ContainerDirs } from "../ops/container-dirs.js";
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
import type { BuiltSchema } from "../schema/build.js";
import { lazyCoreSchema } from "../schema/session-schema.js";
import { ServiceManager } from "../services/service-manager.js";
import { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { RecordBlobOwnership, SqliteCacheRecords } from "../solver/cache-records.js";
import { applyCacheVersion } from "../solver/cache-version.js";
import { SnapshotChecksums } from "../solver/content-checksums.js";
import { Solver } from "../solver/solver.js";
import { GitSource } from "../sources/git-source.js";
import { HttpSource } from "../sources/http-source.js";
import { limiter } from "../util/limit.js";
import { VERSION } from "../version.js";
import { hostResync } from "./host-resync.js";
import type { Logger } from "./log.js";
import { NestingServer } from "./nesting.js";
import type { SessionManager } from "./sessions.js";

export interface LayersOptions {
  config: EngineConfig;
  log: Logger;
  root: string;
  runDir: string;
  /** Where execs make their mount points (a tmpfs, mounted while the engine starts). */
  containers: ContainerDirs;
  executor: RuncExecutor;
  network: CniNetwork | undefined;
  /** The engine's sessions, once they exist (host directories are resynced per client; the cache lists clients). */
  sessions: () => SessionManager | undefined;
}

export interface Layers {
  deps: CoreDeps;
  db: Database;
  registry: RegistryClient;
  collector: Collector;
  volumes: CacheVolumes;
  nesting: NestingServer;
  coreSchema: () => BuiltSchema;
  /** The platforms containers can run on, native first. */
  platforms: readonly string[];
  /** engine.toml's [cache], when configured. */
  remoteCache: RegistryCache | undefined;
}

export async function composeLayers(opts: LayersOptions): Promise<Layers> {
  const { config, log, root, runDir, containers, executor, network } = opts;
  // Emulators for other platforms, registered with binfmt_misc when missing (alongside the rest of the start).
  const emulationReady = Emulation.setup({ log });

  const db = openDatabase(path.join(root, "metadata.db"));
  // Each repairs its own directory: at once.
  const [content, snapshots, git] = await Promise.all([
    LocalContentStore.open(path.join(root, "content")),
    OverlaySnapshotter.open(path.join(root, "snapshots"), db),
    GitSource.open(path.join(root, "git")),
  ]);
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
  const http = new HttpSource(content, `tanto/${VERSION}`, limiter(config.limits.downloads));
  const volumes = new CacheVolumes(path.join(root, "volumes"), db);
  const leases = new Leases();
  const services = new ServiceManager({
    ...(network ? { exec: () => execRunner, network } : servicesWithoutNetwork()),
    recipeOf: bindingRecipe,
    maxServices: config.limits.services,
  });
  const emulation = await emulationReady;
  // Built by Engine.open while it waits for the network's checks.
  const coreSchema = lazyCoreSchema(baseParts);
  const nesting = new NestingServer({ runDir, coreSchema, configure: configureNestedSession });
  const execRunner = new ExecOpRunner({
    snapshots,
    executor,
    volumes,
    containers,
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
        hostResync(hostMirrors, (client) => opts.sessions()?.ofClient(client) ?? []),
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
      clients: () => opts.sessions()?.ids() ?? [],
    },
  };
  return { deps, db, registry, collector, volumes, nesting, coreSchema, platforms: emulation.platforms, remoteCache };
}

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
