/**
 * engine.toml, with buildkitd's key names where they apply:
 *
 *   debug = true
 *   root = "/var/lib/tanto"
 *   [registry."docker.io"]
 *   mirrors = ["127.0.0.1:5000"]
 *   [registry."127.0.0.1:5000"]
 *   http = true
 *   [worker.oci]
 *   max-parallelism = 4      # ops running at once (buildkitd's key)
 *   max-services = 16        # service containers running at once
 *   max-downloads = 4        # HTTP downloads at once
 *   max-layer-pulls = 3      # image layer downloads at once
 *   max-exports = 1          # layers packed and compressed at once (cores - 1)
 *   [network]
 *   pool-size = 4      # default: max-parallelism (at most 256)
 *   enabled = true     # false: execs get loopback only, services cannot run
 *
 * Unknown keys are warnings (a newer config on an older engine still starts);
 * values of the wrong type are errors that name the key.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import { parse } from "smol-toml";
import { InvalidArgumentError, messageOf } from "../errors.js";

export interface RegistryConfig {
  mirrors?: string[];
  http?: boolean;
  insecure?: boolean;
  ca?: string[];
}

/** buildkitd's GC policy keys; sizes in bytes. */
export interface GcPolicy {
  enabled: boolean;
  /** Keep the cache at most this big (default: 10% of the filesystem). */
  keepStorage?: number;
  /** Never collect below this much usage. */
  reservedSpace?: number;
  /** Collect down to this much usage at most. */
  maxUsedSpace?: number;
  /** Collect while the filesystem has less free space than this. */
  minFreeSpace?: number;
}

export interface NetworkConfig {
  /** Off: no bridge, no namespaces; execs see loopback only and services cannot start. */
  enabled: boolean;
  /** Network and bridge name (CNI's `name`). */
  name: string;
  /** IPv4 subnet of the bridge; must not overlap a host route. */
  cidr: string;
  /**
   * Namespaces kept ready, so an exec does not pay for CNI ADD/DEL. Unless
   * set, as many as ops can run at once (max-parallelism, at most 256): a
   * burst of execs beyond the pool makes its namespaces on the spot, tens of
   * milliseconds of CPU each (and as much again to remove the surplus).
   */
  poolSize: number;
}

/** Bounds on work that runs beside the ops ([worker.oci] max-*); each at least 1. */
export interface WorkLimits {
  services: number;
  downloads: number;
  layerPulls: number;
  exports: number;
}

/**
 * One `[cache] import`/`export` entry: `type=registry,ref=HOST/REPO[,mode=min|max]`.
 * `mode` is for exports, as BuildKit's: `min` (the default) exports only the
 * records of the results clients asked for, `max` every record made.
 */
export interface RemoteCacheRef {
  readonly ref: string;
  readonly mode: "min" | "max";
}

export interface CacheConfig {
  imports: RemoteCacheRef[];
  exports: RemoteCacheRef[];
}

export interface EngineConfig {
  debug: boolean;
  /** An HTTP listener for Prometheus metrics and a health check (buildkitd's `debugaddr`), `HOST:PORT`. */
  debugAddr?: string;
  root: string;
  registries: Record<string, RegistryConfig>;
  maxParallelism: number;
  limits: WorkLimits;
  gc: GcPolicy;
  network: NetworkConfig;
  /** Remote cache in an OCI registry (src/cache/registry-cache.ts). */
  cache: CacheConfig;
}

const LIMIT_KEYS: Record<string, keyof WorkLimits> = {
  "max-services": "services",
  "max-downloads": "downloads",
  "max-layer-pulls": "layerPulls",
  "max-exports": "exports",
};

export const DEFAULT_ROOT = "/var/lib/tanto";
export const DEFAULT_CONFIG_PATH = "/etc/tanto/engine.toml";

export function defaultConfig(): EngineConfig {
  return {
    debug: false,
    root: DEFAULT_ROOT,
    registries: {},
    maxParallelism: 4,
    // Compression takes a core per export: leave one to everything else.
    limits: { services: 16, downloads: 4, layerPulls: 3, exports: Math.max(1, os.availableParallelism() - 1) },
    gc: { enabled: true },
    network: { enabled: true, name: "tanto", cidr: "10.87.0.0/16", poolSize: 4 },
    cache: { imports: [], exports: [] },
  };
}

export interface LoadedConfig {
  config: EngineConfig;
  warnings: string[];
}

/** Read a config file; a missing file at the default path is the default config. */
export async function loadConfig(file: string, opts: { required: boolean }): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !opts.required) return { config: defaultConfig(), warnings: [] };
    throw new InvalidArgumentError(`cannot read engine config ${file}: ${messageOf(err)}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, source = "engine.toml"): LoadedConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(`invalid TOML in ${source}: ${messageOf(err)}`);
  }
  const config = defaultConfig();
  let poolSizeSet = false;
  const warnings: string[] = [];
  const unknown = (key: string): void => void warnings.push(`${source}: unknown key "${key}" ignored`);

  for (const [key, value] of Object.entries(doc)) {
    switch (key) {
      case "debug":
        config.debug = bool(value, key, source);
        break;
      case "debugaddr":
        config.debugAddr = str(value, key, source);
        break;
      case "root":
        config.root = str(value, key, source);
        break;
      case "registry":
        config.registries = registries(value, source, unknown);
        break;
      case "cache":
        for (const [ckey, cval] of Object.entries(table(value, key, source))) {
          if (ckey !== "import" && ckey !== "export") {
            unknown(`cache.${ckey}`);
            continue;
          }
          config.cache[ckey === "import" ? "imports" : "exports"] = strList(cval, `cache.${ckey}`, source).map((e) =>
            remoteCacheRef(e, `cache.${ckey}`, source),
          );
        }
        break;
      case "network":
        for (const [nkey, nval] of Object.entries(table(value, key, source))) {
          const full = `network.${nkey}`;
          if (nkey === "enabled") config.network.enabled = bool(nval, full, source);
          else if (nkey === "name") config.network.name = str(nval, full, source);
          else if (nkey === "cidr") config.network.cidr = str(nval, full, source);
          else if (nkey === "pool-size") {
            const n = int(nval, full, source);
            if (n < 0 || n > MAX_POOL_SIZE) throw new InvalidArgumentError(`${source}: "${full}" must be from 0 to ${MAX_POOL_SIZE}, got ${n}`);
            config.network.poolSize = n;
            poolSizeSet = true;
          } else unknown(full);
        }
        break;
      case "worker":
        for (const [wkey, wval] of Object.entries(table(value, key, source))) {
          if (wkey !== "oci") {
            unknown(`worker.${wkey}`);
            continue;
          }
          for (const [okey, oval] of Object.entries(table(wval, "worker.oci", source))) {
            const full = `worker.oci.${okey}`;
            if (okey === "max-parallelism") {
              const n = int(oval, full, source);
              if (n < 1) throw new InvalidArgumentError(`${source}: "${full}" must be at least 1, got ${n}`);
              config.maxParallelism = n;
            } else if (okey in LIMIT_KEYS) {
              const n = int(oval, full, source);
              if (n < 1) throw new InvalidArgumentError(`${source}: "${full}" must be at least 1, got ${n}`);
              config.limits[LIMIT_KEYS[okey]!] = n;
            } else if (okey === "gc") config.gc.enabled = bool(oval, full, source);
            else if (okey === "gckeepstorage") config.gc.keepStorage = size(oval, full, source);
            else if (okey === "reservedSpace") config.gc.reservedSpace = size(oval, full, source);
            else if (okey === "maxUsedSpace") config.gc.maxUsedSpace = size(oval, full, source);
            else if (okey === "minFreeSpace") config.gc.minFreeSpace = size(oval, full, source);
            else unknown(full);
          }
        }
        break;
      default:
        unknown(key);
    }
  }
  if (!poolSizeSet) config.network.poolSize = Math.min(config.maxParallelism, MAX_POOL_SIZE);
  return { config, warnings };
}

/** The most network namespaces kept ready. */
const MAX_POOL_SIZE = 256;

/** `type=registry,ref=…[,mode=min|max]`: the keys of BuildKit's cache options that tanto implements. */
export function remoteCacheRef(entry: string, key: string, source: string): RemoteCacheRef {
  const fields = new Map<string, string>();
  for (const part of entry.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`${source}: "${key}" entry ${JSON.stringify(entry)}: want key=value pairs separated by commas`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const bad = (why: string): InvalidArgumentError => new InvalidArgumentError(`${source}: "${key}" entry ${JSON.stringify(entry)}: ${why}`);
  if (fields.get("type") !== "registry")
    throw bad(`type must be "registry" (the only remote cache tanto has), not ${JSON.stringify(fields.get("type") ?? "")}`);
  const ref = fields.get("ref");
  if (!ref) throw bad("ref=HOST/REPOSITORY is required");
  // Only exports read it; an import entry may carry it (one client entry serves both).
  const mode = fields.get("mode") ?? "min";
  if (mode !== "min" && mode !== "max") throw bad(`mode must be "min" or "max", not ${JSON.stringify(mode)}`);
  for (const k of fields.keys()) if (!["type", "ref", "mode"].includes(k)) throw bad(`unknown option "${k}" (known: type, ref, mode)`);
  return { ref, mode };
}

/**
 * A client's cache config, as Dagger's CLI reads it from the environment:
 * `_EXPERIMENTAL_DAGGER_CACHE_CONFIG` (import and export),
 * `_EXPERIMENTAL_DAGGER_CACHE_IMPORT_CONFIG`, `_EXPERIMENTAL_DAGGER_CACHE_EXPORT_CONFIG`;
 * each holds entries separated by ";".
 */
export function clientCacheConfig(env: { both?: string | undefined; imports?: string | undefined; exports?: string | undefined }): CacheConfig {
  const entries = (text: string | undefined, name: string): RemoteCacheRef[] =>
    (text ?? "")
      .split(";")
      .map((e) => e.trim())
      .filter(Boolean)
      .map((e) => remoteCacheRef(e, name, "the client's cache config"));
  const both = entries(env.both, "_EXPERIMENTAL_DAGGER_CACHE_CONFIG");
  return {
    imports: [...both, ...entries(env.imports, "_EXPERIMENTAL_DAGGER_CACHE_IMPORT_CONFIG")],
    exports: [...both, ...entries(env.exports, "_EXPERIMENTAL_DAGGER_CACHE_EXPORT_CONFIG")],
  };
}

function registries(value: unknown, source: string, unknown: (k: string) => void): Record<string, RegistryConfig> {
  const out: Record<string, RegistryConfig> = {};
  for (const [host, raw] of Object.entries(table(value, "registry", source))) {
    const prefix = `registry."${host}"`;
    const reg: RegistryConfig = {};
    for (const [k, v] of Object.entries(table(raw, prefix, source))) {
      const key = `${prefix}.${k}`;
      if (k === "mirrors") reg.mirrors = strList(v, key, source);
      else if (k === "http") reg.http = bool(v, key, source);
      else if (k === "insecure") reg.insecure = bool(v, key, source);
      else if (k === "ca") reg.ca = strList(v, key, source);
      else unknown(key);
    }
    out[host] = reg;
  }
  return out;
}

function typeError(key: string, source: string, want: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`${source}: "${key}" must be ${want}, got ${JSON.stringify(value)}`);
}
function bool(v: unknown, key: string, source: string): boolean {
  if (typeof v !== "boolean") throw typeError(key, source, "a boolean", v);
  return v;
}
function str(v: unknown, key: string, source: string): string {
  if (typeof v !== "string" || v === "") throw typeError(key, source, "a non-empty string", v);
  return v;
}
function int(v: unknown, key: string, source: string): number {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) throw typeError(key, source, "an integer", v);
  return n;
}
/** A size: a number of bytes, or a string like "200MB", "10GiB", "512kb". */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = "kmgtp".indexOf(m[2]!.toLowerCase()) + 1;
  const base = m[3] ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** power);
}

function size(v: unknown, key: string, source: string): number {
  const n = typeof v === "string" ? parseSize(v) : typeof v === "bigint" ? Number(v) : typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
  if (n === undefined) throw typeError(key, source, 'a size (bytes, or a string like "10GB")', v);
  return n;
}

function strList(v: unknown, key: string, source: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw typeError(key, source, "a list of strings", v);
  return v as string[];
}
function table(v: unknown, key: string, source: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw typeError(key, source, "a table", v);
  return v as Record<string, unknown>;
}
