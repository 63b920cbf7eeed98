/**
 * The remote cache in an OCI registry (`[cache] import`/`export` in
 * engine.toml, `type=registry,ref=HOST/REPO[,mode=min|max]`). Each cache
 * record is one image in REPO, tagged `tanto-<hex of the record key>`, with
 * the record's key, kind and result metadata as annotations:
 * - a result that is one snapshot: an image manifest whose layers are the
 *   snapshot's chain (the base image's layers and each op's own);
 * - a result owning more snapshots (an exec's writable directory mounts): an
 *   image index with one such manifest per snapshot, each annotated with the
 *   snapshot's name on the exporting engine, so that the importer maps the
 *   names the metadata holds (an exec's `mounts`) to its own;
 * - a result owning content blobs (a download, an image tarball's index and
 *   manifests): an image index as above, plus one manifest listing the blobs
 *   (record-blobs.ts), which the importer pulls into its content store.
 * Looking a key up is one manifest GET; a hit is unpacked like an image (only
 * the layers this engine lacks are pulled). Records are content and every tag
 * is written whole, so concurrent exporters never corrupt anything: two
 * engines exporting one key write equivalent results, and the last one stays.
 *
 * What is exported, by the entry's mode (BuildKit's): `max` every record made
 * by running an op, and `min` (the default) only the records of the results
 * clients asked for (`requested`); both export a requested result answered
 * from the local cache too. A key is exported once per repository and engine
 * run. Not exported: results with no snapshot. A registry that fails a lookup (down, refusing)
 * is a miss with a warning (in the log and to the client), and is not asked
 * again for 30 s; the pipeline runs.
 */
import { messageOf } from "../errors.js";
import type { ExportedImage, ExportedManifest, ImageExporter } from "../images/image-exporter.js";
import type { ImageStore } from "../images/image-store.js";
import { type Digest, digestHex } from "../oci/digest.js";
import { type Descriptor, encodeJson, type Index, parseManifestOrIndex } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import { hostPlatform, parsePlatform } from "../oci/platform.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { RemoteRecords, Result, Vertex } from "../solver/types.js";
import { BLOBS_PART, blobsManifest, pullBlobs } from "./record-blobs.js";

const KEY = "dev.tanto.cache.key";
const KIND = "dev.tanto.cache.kind";
const META = "dev.tanto.cache.meta";
/** On each manifest of a record's index: the snapshot's name where it was made ("" for the result's own snapshot). */
const PART = "dev.tanto.cache.part";
/** Result metadata larger than this (an exec's huge stdout) is not shared. */
const MAX_META = 256 << 10;
/** How long an import repository whose registry failed a lookup is left alone. */
const DOWN_FOR_MS = 30_000;
/** Keys remembered as exported (per repository); past this the memory starts again (a few repeated exports). */
const MAX_REMEMBERED = 100_000;

export interface RegistryCacheStats {
  exported: number;
  exportsPending: number;
  exportsFailed: number;
  lookups: number;
  hits: number;
  lookupErrors: number;
}

/** What the caches of several sessions share: their counters, and the records known to be in each repository. */
export interface SharedRegistryCacheState {
  readonly stats: RegistryCacheStats;
  readonly there: Set<string>;
  readonly down: Map<string, number>;
}

interface ExportTarget {
  readonly repo: Reference;
  readonly mode: "min" | "max";
}

export class RegistryCache implements RemoteRecords {
  readonly #imports: Reference[];
  readonly #exports: ExportTarget[];
  readonly #pending = new Set<Promise<void>>();
  /** `repo\0key` of records exported (or being exported) there, or found there by a lookup. */
  readonly #there: Set<string>;
  /** Import repositories whose registry failed a lookup: not asked until then (ms since the epoch). */
  readonly #down: Map<string, number>;
  readonly stats: RegistryCacheStats;

  constructor(
    private readonly deps: {
      registry: RegistryClient;
      images: ImageStore;
      exporter: ImageExporter;
      snapshots: OverlaySnapshotter;
      warn: (message: string, fields: Record<string, unknown>) => void;
    },
    config: { imports: ReadonlyArray<{ ref: string }>; exports: ReadonlyArray<{ ref: string; mode: "min" | "max" }> },
    /** Counters to add to and records known to be there, shared by the caches of every session; else its own. */
    shared?: SharedRegistryCacheState,
  ) {
    this.stats = shared?.stats ?? newRegistryCacheStats();
    this.#there = shared?.there ?? new Set();
    this.#down = shared?.down ?? new Map();
    const repo = (r: string): Reference => parseReference(r, { defaultTag: false });
    this.#imports = config.imports.map((c) => repo(c.ref));
    this.#exports = config.exports.map((c) => ({ repo: repo(c.ref), mode: c.mode }));
  }

  async lookup(key: string, _kind: string, signal: AbortSignal | undefined, tell?: (text: string) => void): Promise<Result | undefined> {
    for (const repo of this.#imports) {
      const where = formatRepo(repo);
      if ((this.#down.get(where) ?? 0) > Date.now()) continue;
      this.stats.lookups++;
      const tagged = recordRef(repo, key);
      let fetched: Awaited<ReturnType<RegistryClient["fetchManifest"]>>;
      try {
        fetched = await this.deps.registry.fetchManifest(tagged, signal ? { signal } : {});
      } catch (err) {
        if (signal?.aborted) throw err;
        if (isNotFound(err)) continue;
        this.stats.lookupErrors++;
        // Each op of a pipeline would wait on it again (a connect timeout each): left alone for a while.
        this.#down.set(where, Date.now() + DOWN_FOR_MS);
        this.deps.warn("remote cache lookup failed; running the op", { ref: where, error: messageOf(err), skippedForMs: DOWN_FOR_MS });
        tell?.(`WARN: remote cache ${where} cannot be read (${messageOf(err)}): ops run here; not asked again for ${DOWN_FOR_MS / 1000} s`);
        continue;
      }
      try {
        const result = await this.#unpack(repo, key, fetched, signal);
        if (!result) continue;
        this.stats.hits++;
        this.#remember(repo, key);
        return result;
      } catch (err) {
        this.stats.lookupErrors++;
        this.deps.warn("remote cache record unusable; running the op", { ref: formatRepo(repo), key, error: messageOf(err) });
      }
    }
    return undefined;
  }

  /** A record's image, unpacked: its result with this engine's snapshot names; undefined when it is another key's. */
  async #unpack(
    repo: Reference,
    key: string,
    fetched: Awaited<ReturnType<RegistryClient["fetchManifest"]>>,
    signal: AbortSignal | undefined,
  ): Promise<Result | undefined> {
    const doc = parseManifestOrIndex(fetched.bytes, fetched.mediaType);
    const annotations = (doc.kind === "index" ? doc.index.annotations : doc.manifest.annotations) ?? {};
    if (annotations[KEY] !== key) return undefined;
    const meta = JSON.parse(annotations[META] ?? "{}") as Record<string, unknown>;
    const call = signal ? { signal } : {};
    if (doc.kind === "manifest") {
      const top = await this.deps.images.unpack({ ...repo, digest: fetched.digest }, call);
      return { ...(top ? { snapshot: top.name } : {}), meta };
    }
    // Several snapshots: each unpacked, and the exporter's names in the metadata replaced by ours.
    const names = new Map<string, string>();
    let own: string | undefined;
    let blobs: string[] = [];
    await Promise.all(
      doc.index.manifests.map(async (d) => {
        if (d.annotations?.[BLOBS_PART] !== undefined) {
          blobs = await pullBlobs(this.deps.registry, this.deps.exporter.content, repo, d, signal);
          return;
        }
        const part = d.annotations?.[PART];
        if (part === undefined) throw new Error(`manifest ${d.digest} of the record's index has no ${PART} annotation`);
        const top = await this.deps.images.unpack({ ...repo, digest: d.digest }, call);
        if (!top) throw new Error(`manifest ${d.digest} of the record's index has no layers`);
        if (part === "") own = top.name;
        else names.set(part, top.name);
      }),
    );
    return {
      ...(own !== undefined ? { snapshot: own } : {}),
      meta: renamed(meta, names) as Record<string, unknown>,
      owns: { snapshots: [...names.values()], ...(blobs.length > 0 ? { blobs } : {}) },
    };
  }

  recorded(key: string, v: Vertex, result: Result): void {
    this.#export(
      key,
      v,
      result,
      this.#exports.filter((t) => t.mode === "max"),
    );
  }

  requested(key: string, v: Vertex, result: Result): boolean {
    // Nothing to export to: nothing for the solver to offer instead either.
    return this.#exports.length === 0 || this.#export(key, v, result, this.#exports);
  }

  /** Export `result` to the targets that lack it, in the background; false when it is not a result this cache keeps. */
  #export(key: string, v: Vertex, result: Result, targets: readonly ExportTarget[]): boolean {
    if (result.snapshot === undefined) return false;
    const fresh = targets.filter((t) => !this.#there.has(thereKey(t.repo, key)));
    if (fresh.length === 0) return true;
    const meta = JSON.stringify(result.meta);
    if (meta.length > MAX_META) return false;
    const parts = [{ name: "", snapshot: result.snapshot }, ...(result.owns?.snapshots ?? []).map((s) => ({ name: s, snapshot: s }))];
    const snapshots = parts.map((p) => this.deps.snapshots.get(p.snapshot));
    if (snapshots.some((s) => s === undefined)) return false;
    const blobs = result.owns?.blobs ?? [];
    for (const t of fresh) this.#remember(t.repo, key);
    this.stats.exportsPending++;
    const work = (async () => {
      const platform = typeof v.op["platform"] === "string" ? parsePlatform(v.op["platform"]) : hostPlatform();
      const annotations: Array<[string, string]> = [
        [KEY, key],
        [KIND, v.op.kind],
        [META, meta],
      ];
      const manifest = (rootfs: (typeof snapshots)[number], withAnnotations: boolean): Promise<ExportedManifest> =>
        this.deps.exporter.exportManifest(
          { rootfs, settings: { ...EMPTY_SETTINGS, platform, ...(withAnnotations ? { annotations } : {}) } },
          { mediaTypes: "oci" },
        );
      const blobPart = blobs.length > 0 ? await blobsManifest(this.deps.exporter.content, blobs) : undefined;
      if (blobs.length > 0 && !blobPart) throw new Error(`a blob the record owns (${blobs.join(", ")}) is no longer in the content store`);
      let image: ExportedImage;
      if (parts.length === 1 && !blobPart) {
        const exported = await manifest(snapshots[0], true);
        const { platform: _p, ...descriptor } = exported.descriptor;
        image = { descriptor, manifests: [exported] };
      } else {
        const manifests = await Promise.all(snapshots.map((s) => manifest(s, false)));
        const entries = manifests.map((m, i): Descriptor => {
          const { platform: _p, ...d } = m.descriptor;
          return { ...d, annotations: { [PART]: parts[i]!.name } };
        });
        if (blobPart) {
          manifests.push(blobPart);
          entries.push({ ...blobPart.descriptor, annotations: { [BLOBS_PART]: String(blobs.length) } });
        }
        const index: Index = {
          schemaVersion: 2,
          mediaType: MediaType.ociIndex,
          manifests: entries,
          annotations: Object.fromEntries(annotations),
        };
        const bytes = encodeJson(index);
        const digest = await this.deps.exporter.content.put(bytes);
        image = { descriptor: { mediaType: MediaType.ociIndex, digest, size: bytes.length }, manifests, index };
      }
      for (const t of fresh) await this.deps.exporter.publish(recordRef(t.repo, key), image);
      this.stats.exported++;
    })()
      .catch((err: unknown) => {
        // Not retried now; a later request for the key may try again.
        for (const t of fresh) this.#there.delete(thereKey(t.repo, key));
        this.stats.exportsFailed++;
        this.deps.warn("remote cache export failed", { key, op: v.name, error: messageOf(err) });
      })
      .finally(() => {
        this.stats.exportsPending--;
        this.#pending.delete(work);
      });
    this.#pending.add(work);
    return true;
  }

  #remember(repo: Reference, key: string): void {
    if (this.#there.size >= MAX_REMEMBERED) this.#there.clear();
    this.#there.add(thereKey(repo, key));
  }

  /** Wait for the exports under way (at shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

const EMPTY_SETTINGS = { env: [], workdir: "", user: "", entrypoint: [], cmd: [], labels: [], exposedPorts: [] } as const;

export function newRegistryCacheStats(): RegistryCacheStats {
  return { exported: 0, exportsPending: 0, exportsFailed: 0, lookups: 0, hits: 0, lookupErrors: 0 };
}

/**
 * `value` with every string equal to a key of `names` replaced by its value:
 * snapshot names are engine-local, and an op's metadata names the snapshots
 * its result owns (an exec's `mounts`; such names hold the vertex digest, so
 * no other string of the metadata is equal to one).
 */
export function renamed(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (typeof value === "string") return names.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => renamed(v, names));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamed(v, names)]));
  return value;
}

/** A record's tag in a repository. */
function recordRef(repo: Reference, key: string): Reference {
  const { digest: _d, tag: _t, ...bare } = repo;
  return { ...bare, tag: `tanto-${digestHex(key as Digest)}` };
}

function thereKey(repo: Reference, key: string): string {
  return `${formatRepo(repo)}\0${key}`;
}

function formatRepo(r: Reference): string {
  return `${r.domain}/${r.repository}`;
}

function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === "NOT_FOUND";
}
