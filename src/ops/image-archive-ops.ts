/**
 * Image tarballs as recipes.
 *
 * `image-tarball`: containers (one per platform) → a snapshot holding one
 * file, `/image.tar`, the image archive of them (Container.asTarball).
 *   inputs: the rootfs of each variant that has one (`variants[i].rootfs` indexes them, -1 for none)
 *
 * `image-import`: an image archive file → the unpacked image's top layer
 * snapshot (Container.import). The resolver has already imported the
 * archive (it needs the config); the op names the manifest by digest, and
 * imports the archive again only when the content store lost a blob.
 *   inputs: [the file's source]
 */
import { createReadStream, createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { imageArchive } from "../images/image-archive.js";
import { importImageArchive } from "../images/image-archive-import.js";
import type { ExportCompression, ExportMediaTypes, ImageExporter, ImageSettings } from "../images/image-exporter.js";
import type { ImageStore } from "../images/image-store.js";
import { type Digest, digestHex } from "../oci/digest.js";
import { parseManifest } from "../oci/image.js";
import { parsePlatform } from "../oci/platform.js";
import { parseReference } from "../oci/reference.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { CommittedSnapshot } from "../snapshots/types.js";
import { withSnapshotView } from "../snapshots/view.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";

/** The file Container.asTarball's File names. */
export const TARBALL_NAME = "image.tar";

export interface ImageTarballOp {
  kind: "image-tarball";
  variants: Array<{ rootfs: number; settings: ImageSettings }>;
  compression?: ExportCompression;
  mediaTypes: ExportMediaTypes;
}

export interface ImageImportOp {
  kind: "image-import";
  manifest: Digest;
  /** The archive's path inside the input. */
  path: string;
  platform: string;
  tag?: string;
}

/** A reference for unpacking an image that is only in the content store (no registry is ever asked). */
export function importedImageRef(manifest: Digest) {
  return parseReference(`tanto.import/image@${manifest}`);
}

export class ImageTarballOpRunner implements OpRunner {
  readonly kind = "image-tarball";
  readonly cacheable = true;

  constructor(private readonly deps: { exporter: ImageExporter; snapshots: OverlaySnapshotter }) {}

  async run(v: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as ImageTarballOp;
    const { snapshots, exporter } = this.deps;
    const variants = op.variants.map((variant) => ({ rootfs: snapshotOf(snapshots, inputs[variant.rootfs]), settings: variant.settings }));
    const image = await exporter.exportImage(variants, { compression: op.compression, mediaTypes: op.mediaTypes, signal: ctx.signal });
    const archive = imageArchive(exporter.content, image);
    const active = await snapshots.prepare(undefined);
    try {
      const file = path.join(active.upperDir, TARBALL_NAME);
      await pipeline(archive.stream(ctx.signal), createWriteStream(file, { mode: 0o644 }), ...(ctx.signal ? [{ signal: ctx.signal }] : []));
      await fs.utimes(file, new Date(0), new Date(0));
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    }
    const committed = await snapshots.commit(active, `image-tarball/${digestHex(v.digest)}`);
    // The record owns the exported index, manifests and configs (layer blobs belong to their snapshots).
    const blobs = [image.descriptor.digest, ...image.manifests.flatMap((m) => [m.descriptor.digest, m.manifest.config.digest])];
    return { snapshot: committed.name, meta: { digest: image.descriptor.digest }, owns: { blobs } };
  }
}

export class ImageImportOpRunner implements OpRunner {
  readonly kind = "image-import";
  readonly cacheable = true;

  constructor(private readonly deps: { images: ImageStore; exporter: ImageExporter; snapshots: OverlaySnapshotter; runDir: string }) {}

  async run(v: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as ImageImportOp;
    const content = this.deps.exporter.content;
    if (!(await this.#complete(op.manifest))) {
      const source = snapshotOf(this.deps.snapshots, inputs[0]);
      const imported = await withSnapshotView(this.deps.snapshots, source, this.deps.runDir, async (root) => {
        const file = await resolveInRoot(root, op.path, { followLast: true });
        if (!(await fs.stat(file).catch(() => undefined))?.isFile()) throw new NotFoundError(`image archive "${op.path}" not found`);
        return importImageArchive(content, createReadStream(file), { platform: parsePlatform(op.platform), tag: op.tag, signal: ctx.signal });
      });
      if (imported.manifestDigest !== op.manifest) {
        throw new FailedPreconditionError(`image archive "${op.path}" now yields manifest ${imported.manifestDigest}, not ${op.manifest}`);
      }
    }
    const top = await this.deps.images.unpack(importedImageRef(op.manifest), ctx.signal ? { signal: ctx.signal } : {});
    return top ? { snapshot: top.name, meta: {} } : { meta: {} };
  }

  /** Whether the manifest, its config and its layers are all in the content store. */
  async #complete(manifest: Digest): Promise<boolean> {
    const content = this.deps.exporter.content;
    if (!(await content.info(manifest))) return false;
    const m = parseManifest(await content.readBytes(manifest));
    for (const d of [m.config, ...m.layers]) if (!(await content.info(d.digest))) return false;
    return true;
  }
}

function snapshotOf(snapshots: OverlaySnapshotter, result: Result | undefined): CommittedSnapshot | undefined {
  if (result?.snapshot === undefined) return undefined;
  const s = snapshots.get(result.snapshot);
  if (!s) throw new FailedPreconditionError(`snapshot "${result.snapshot}" is gone`);
  return s;
}
