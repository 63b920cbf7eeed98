/**
 * The remote caches clients ask for when they open a session (Dagger's
 * `_EXPERIMENTAL_DAGGER_CACHE_CONFIG` and its import/export variants): one
 * RegistryCache per such session, their counters
 * added up for the engine's stats, and what each knows to be in a repository
 * shared (a result asked for in every session is exported once).
 */
import { clientCacheConfig } from "../config/engine-config.js";
import { newRegistryCacheStats, RegistryCache, type RegistryCacheStats } from "./registry-cache.js";

type Deps = ConstructorParameters<typeof RegistryCache>[0];

export class ClientCaches {
  readonly #shared = { stats: newRegistryCacheStats(), there: new Set<string>(), down: new Map<string, number>() };
  #used = false;

  constructor(private readonly deps: Deps) {}

  /** What the caches clients asked for did, added up (none asked: undefined). */
  get stats(): RegistryCacheStats | undefined {
    return this.#used ? this.#shared.stats : undefined;
  }

  /** The remote cache a new session's client configured, or undefined; a bad entry is an InvalidArgumentError naming it. */
  forSession(clientConfig: Parameters<typeof clientCacheConfig>[0]): RegistryCache | undefined {
    const config = clientCacheConfig(clientConfig);
    if (config.imports.length + config.exports.length === 0) return undefined;
    this.#used = true;
    return new RegistryCache(this.deps, config, this.#shared);
  }
}
