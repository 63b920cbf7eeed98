/**
 * The image exporter and the archive format on real snapshots (as root:
 * overlay whiteouts are character devices): one layer per snapshot, the
 * diffIDs, blob reuse per (snapshot, compression), media types, indexes,
 * and archives read back by the importer.
 */

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { Decompress } from "fzstd";
import tar from "tar-stream";
import { LocalContentStore } from "../content/local-content-store.js";
import { InvalidArgumentError } from "../errors.js";
import { openDatabase } from "../metadata/database.js";
import { sha256 } from "../oci/digest.js";
import { parseImageConfig, parseIndex, parseManifest } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import { RegistryClient } from "../registry/registry-client.js";
import { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import { imageArchive } from "./image-archive.js";
import { importImageArchive } from "./image-archive-import.js";
import { ImageExporter, type ImageSettings } from "./image-exporter.js";
import { LayerBlobs } from "./layer-blobs.js";

const settings = (platform = { os: "linux", architecture: "amd64" }): ImageSettings => ({
  platform,
  env: ["PATH=/bin"],
  workdir: "/w",
  user: "",
  entrypoint: [],
  cmd: ["sh"],
  labels: [["a", "b"]],
  exposedPorts: [{ port: 80, protocol: "TCP" }],
});

async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), "tanto-exporter-"));
  const db = openDatabase(join(dir, "metadata.db"));
  const content = await LocalContentStore.open(join(dir, "content"));
  const snapshots = await OverlaySnapshotter.open(join(dir, "snapshots"), db);
  const layerBlobs = new LayerBlobs(db);
  // Not used by these tests: nothing is pushed.
  const exporter = new ImageExporter({ content, snapshots, layerBlobs, registry: new RegistryClient() });
  const a = await snapshots.prepare(undefined);
  await mkdir(join(a.upperDir, "etc"));
  await writeFile(join(a.upperDir, "etc/a"), "a\n");
  await writeFile(join(a.upperDir, "etc/gone"), "gone\n");
  const base = await snapshots.commit(a, "base");
  const b = await snapshots.prepare(base);
  await writeFile(join(b.upperDir, "b"), "b\n");
  await mkdir(join(b.upperDir, "etc"));
  // An overlay whiteout, as a kernel writes it for a deleted file.
  const { execFileSync } = await import("node:child_process");
  execFileSync("mknod", [join(b.upperDir, "etc/gone"), "c", "0", "0"]);
  const top = await snapshots.commit(b, "top");
  return {
    dir,
    content,
    exporter,
    layerBlobs,
    top,
    close: async () => {
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function tarNames(data: Buffer): Promise<string[]> {
  const extract = tar.extract();
  Readable.from([data]).pipe(extract as unknown as NodeJS.WritableStream);
  const names: string[] = [];
  for await (const entry of extract) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names;
}

test("one layer per snapshot, bottom-up, with diffIDs, reused on a second export", async () => {
  const f = await fixture();
  try {
    const image = await f.exporter.exportImage([{ rootfs: f.top, settings: settings() }], { mediaTypes: "oci" });
    const m = parseManifest(await f.content.readBytes(image.descriptor.digest));
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.equal(m.layers.length, 2);
    assert.ok(m.layers.every((l) => l.mediaType === MediaType.ociLayerGzip));
    const config = parseImageConfig(await f.content.readBytes(m.config.digest));
    assert.deepEqual(config.config, { ExposedPorts: { "80/tcp": {} }, Env: ["PATH=/bin"], Cmd: ["sh"], WorkingDir: "/w", Labels: { a: "b" } });
    assert.equal(config.created, "1970-01-01T00:00:00Z");
    assert.equal(config.history?.length, 2);
    const tars = await Promise.all(m.layers.map(async (l) => gunzipSync(await f.content.readBytes(l.digest))));
    assert.deepEqual(
      config.rootfs.diff_ids,
      tars.map((t) => sha256(t)),
    );
    assert.deepEqual(await tarNames(tars[0]!), ["etc/", "etc/a", "etc/gone"]);
    assert.deepEqual(await tarNames(tars[1]!), ["b", "etc/", "etc/.wh.gone"]);

    const inode = (await stat(f.content.path(m.layers[1]!.digest))).ino;
    const again = await f.exporter.exportImage([{ rootfs: f.top, settings: settings() }], { mediaTypes: "oci" });
    assert.equal(again.descriptor.digest, image.descriptor.digest, "deterministic");
    assert.equal((await stat(f.content.path(m.layers[1]!.digest))).ino, inode, "the recorded blob is reused, not written again");

    const zstd = await f.exporter.exportImage([{ rootfs: f.top, settings: settings() }], { compression: "zstd", mediaTypes: "docker" });
    const zm = parseManifest(await f.content.readBytes(zstd.descriptor.digest));
    assert.equal(zm.mediaType, MediaType.ociManifest, "zstd layers need OCI media types");
    assert.ok(zm.layers.every((l) => l.mediaType === MediaType.ociLayerZstd));
    const chunks: Uint8Array[] = [];
    const d = new Decompress((c) => chunks.push(c.slice()));
    d.push(await f.content.readBytes(zm.layers[1]!.digest), true);
    assert.equal(sha256(Buffer.concat(chunks)), config.rootfs.diff_ids[1]);

    const docker = await f.exporter.exportImage([{ rootfs: f.top, settings: settings() }], { mediaTypes: "docker" });
    const dm = parseManifest(await f.content.readBytes(docker.descriptor.digest));
    assert.equal(dm.mediaType, MediaType.dockerManifest);
    assert.equal(dm.config.mediaType, MediaType.dockerConfig);
    assert.deepEqual(
      dm.layers.map((l) => l.digest),
      m.layers.map((l) => l.digest),
      "same blobs, other media types",
    );
    assert.equal(f.layerBlobs.lookup(f.top.id).length, 2, "gzip and zstd recorded");
  } finally {
    await f.close();
  }
});

test("several platforms make an index; archives read back to the same manifest", async () => {
  const f = await fixture();
  try {
    const arm = { os: "linux", architecture: "arm64", variant: "v8" };
    const image = await f.exporter.exportImage(
      [
        { rootfs: f.top, settings: settings() },
        { rootfs: undefined, settings: settings(arm) },
      ],
      { mediaTypes: "oci" },
    );
    const index = parseIndex(await f.content.readBytes(image.descriptor.digest));
    assert.deepEqual(
      index.manifests.map((m) => m.platform),
      [{ os: "linux", architecture: "amd64" }, arm],
    );
    await assert.rejects(
      f.exporter.exportImage(
        [
          { rootfs: f.top, settings: settings() },
          { rootfs: f.top, settings: settings() },
        ],
        { mediaTypes: "oci" },
      ),
      /linux\/amd64 is given twice/,
    );

    const archive = imageArchive(f.content, image, { tags: ["example.com/app:1"] });
    const bytes = await buffer(archive.stream());
    assert.equal(bytes.length, archive.size, "the announced size is exact");

    const other = await LocalContentStore.open(join(f.dir, "content2"));
    const got = await importImageArchive(other, Readable.from([bytes]), { platform: arm });
    assert.equal(got.manifestDigest, image.manifests[1]!.descriptor.digest);
    const amd = await importImageArchive(other, Readable.from([bytes]), { platform: { os: "linux", architecture: "amd64" }, tag: "1" });
    assert.equal(amd.manifestDigest, image.manifests[0]!.descriptor.digest);
    assert.deepEqual(amd.config.rootfs.diff_ids.length, 2);
    await assert.rejects(importImageArchive(other, Readable.from([bytes]), { platform: arm, tag: "2" }), /no image tagged "2"; it has "example\.com\/app:1"/);
    const notImage = tar.pack();
    notImage.entry({ name: "hello.txt" }, "hi");
    notImage.finalize();
    await assert.rejects(importImageArchive(other, Readable.from(notImage), { platform: arm }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /not an image archive: .*it holds "hello\.txt"/);
      return true;
    });
  } finally {
    await f.close();
  }
});
