/**
 * The remote cache in an OCI registry (`[cache] import`/`export` in
 * engine.toml, `type=registry,ref=HOST/REPO`). Each cache record is one image
 * manifest in REPO, tagged `tanto-<hex of the record key>`: its layers are the
 * result snapshot's chain (the base image's layers and each op's own), its
 * annotations the record's key, kind and result metadata. Looking a key up is
 * one manifest GET; a hit is unpacked like an image (only the layers this
 * engine lacks are pulled). Records are content and every tag is written
 * whole, so concurrent exporters never corrupt anything: two engines
 * exporting one key write equivalent results, and the last one stays.
 *
 * Exported: results with a snapshot and nothing else owned (an exec with
 * writable directory mounts, an image tarball are not). A registry that
 * fails (down, refusing) is a miss with a warning; the pipeline runs.
 */
import { messageOf } from "../errors.js";
import type { ImageExporter } from "../images/image-exporter.js";
import type { ImageStore } from "../images/image-store.js";
import { type Digest, digestHex } from "../oci/digest.js";
import { parseManifest } from "../oci/image.js";
import { hostPlatform, parsePlatform } from "../oci/platform.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { RemoteRecords, Result, Vertex } from "../solver/types.js";

const KEY = "dev.tanto.cache.key";
const KIND = "dev.tanto.cache.kind";
const META = "dev.tanto.cache.meta";
/** Result metadata larger than this (an exec's huge stdout) is not shared. */
const MAX_META = 256 << 10;

export interface RegistryCacheStats {
  exported: number;
  exportsPending: number;
  exportsFailed: number;
  lookups: number;
  hits: number;
  lookupErrors: number;
}

export class RegistryCache implements RemoteRecords {
  readonly #imports: Reference[];
  readonly #exports: Reference[];
  readonly #pending = new Set<Promise<void>>();
  readonly stats: RegistryCacheStats;

  constructor(
    private readonly deps: {
      registry: RegistryClient;
      images: ImageStore;
      exporter: ImageExporter;
      snapshots: OverlaySnapshotter;
      warn: (message: string, fields: Record<string, unknown>) => void;
    },
    config: { imports: ReadonlyArray<{ ref: string }>; exports: ReadonlyArray<{ ref: string }> },
    /** Counters to add to (shared by the caches of every session), else its own. */
    stats?: RegistryCacheStats,
  ) {
    this.stats = stats ?? newRegistryCacheStats();
    const repo = (r: string): Reference => parseReference(r, { defaultTag: false });
    this.#imports = config.imports.map((c) => repo(c.ref));
    this.#exports = config.exports.map((c) => repo(c.ref));
  }

  async lookup(key: string, _kind: string, signal: AbortSignal | undefined): Promise<Result | undefined> {
    for (const repo of this.#imports) {
      this.stats.lookups++;
      const tagged = recordRef(repo, key);
      let fetched: Awaited<ReturnType<RegistryClient["fetchManifest"]>>;
      try {
        fetched = await this.deps.registry.fetchManifest(tagged, signal ? { signal } : {});
      } catch (err) {
        if (isNotFound(err)) continue;
        this.stats.lookupErrors++;
        this.deps.warn("remote cache lookup failed; running the op", { ref: formatRepo(repo), error: messageOf(err) });
        continue;
      }
      try {
        const manifest = parseManifest(fetched.bytes);
        const annotations = manifest.annotations ?? {};
        if (annotations[KEY] !== key) continue;
        const meta = JSON.parse(annotations[META] ?? "{}") as Record<string, unknown>;
        const top = await this.deps.images.unpack({ ...repo, digest: fetched.digest }, signal ? { signal } : {});
        this.stats.hits++;
        return { ...(top ? { snapshot: top.name } : {}), meta };
      } catch (err) {
        this.stats.lookupErrors++;
        this.deps.warn("remote cache record unusable; running the op", { ref: formatRepo(repo), key, error: messageOf(err) });
      }
    }
    return undefined;
  }

  recorded(key: string, v: Vertex, result: Result): void {
    if (this.#exports.length === 0 || result.snapshot === undefined || result.owns) return;
    const meta = JSON.stringify(result.meta);
    if (meta.length > MAX_META) return;
    const snapshot = this.deps.snapshots.get(result.snapshot);
    if (!snapshot) return;
    this.stats.exportsPending++;
    const work = (async () => {
      const platform = typeof v.op["platform"] === "string" ? parsePlatform(v.op["platform"]) : hostPlatform();
      const exported = await this.deps.exporter.exportManifest(
        {
          rootfs: snapshot,
          settings: {
            platform,
            env: [],
            workdir: "",
            user: "",
            entrypoint: [],
            cmd: [],
            labels: [],
            exposedPorts: [],
            annotations: [
              [KEY, key],
              [KIND, v.op.kind],
              [META, meta],
            ],
          },
        },
        { mediaTypes: "oci" },
      );
      const { platform: _p, ...descriptor } = exported.descriptor;
      for (const repo of this.#exports) {
        await this.deps.exporter.publish(recordRef(repo, key), { descriptor, manifests: [exported] });
      }
      this.stats.exported++;
    })()
      .catch((err: unknown) => {
        this.stats.exportsFailed++;
        this.deps.warn("remote cache export failed", { key, op: v.name, error: messageOf(err) });
      })
      .finally(() => {
        this.stats.exportsPending--;
        this.#pending.delete(work);
      });
    this.#pending.add(work);
  }

  /** Wait for the exports under way (at shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

export function newRegistryCacheStats(): RegistryCacheStats {
  return { exported: 0, exportsPending: 0, exportsFailed: 0, lookups: 0, hits: 0, lookupErrors: 0 };
}

/** A record's tag in a repository. */
function recordRef(repo: Reference, key: string): Reference {
  const { digest: _d, tag: _t, ...bare } = repo;
  return { ...bare, tag: `tanto-${digestHex(key as Digest)}` };
}

function formatRepo(r: Reference): string {
  return `${r.domain}/${r.repository}`;
}

function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === "NOT_FOUND";
}
