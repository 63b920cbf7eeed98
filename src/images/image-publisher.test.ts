/**
 * publishUploads and publishImage against a real registry: blobs pushed while
 * the export works (from the store, or from memory before they are stored),
 * and a blob whose early push failed pushed again by publishImage.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { testRegistry } from "../../test/support/fixtures.js";
import { LocalContentStore } from "../content/local-content-store.js";
import { sha256 } from "../oci/digest.js";
import { type Descriptor, encodeJson, type Manifest } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import { parseReference } from "../oci/reference.js";
import { RegistryClient } from "../registry/registry-client.js";
import type { ExportedImage } from "./image-exporter.js";
import { publishImage, publishUploads } from "./image-publisher.js";

test("blobs pushed early, from memory or the store; one that failed early is pushed again", async () => {
  const host = await testRegistry();
  const dir = await mkdtemp(join(tmpdir(), "tanto-publisher-"));
  const client = new RegistryClient();
  try {
    const content = await LocalContentStore.open(join(dir, "content"));
    const ref = parseReference(`${host}/publisher-test/app:${Date.now()}`);
    const layerBytes = randomBytes(4096);
    const late = randomBytes(2048);
    const configBytes = encodeJson({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
    const layer: Descriptor = { mediaType: MediaType.ociLayer, digest: sha256(layerBytes), size: layerBytes.length };
    const lateLayer: Descriptor = { mediaType: MediaType.ociLayer, digest: sha256(late), size: late.length };
    const config: Descriptor = { mediaType: MediaType.ociConfig, digest: sha256(configBytes), size: configBytes.length };
    await content.put(layerBytes);

    const uploads = publishUploads(client, content, ref, {});
    uploads.ready(layer);
    uploads.ready(layer); // once only
    uploads.ready(config, configBytes); // not in the store: sent from memory
    uploads.ready(lateLayer); // not in the store yet: this early push fails
    assert.equal(uploads.sending.size, 3);
    assert.equal(await uploads.sending.get(layer.digest), true);
    assert.equal(await uploads.sending.get(config.digest), true);
    assert.equal(await uploads.sending.get(lateLayer.digest), false);

    await content.put(late);
    const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer, lateLayer] };
    const manifestBytes = encodeJson(manifest);
    const desc: Descriptor = { mediaType: MediaType.ociManifest, digest: await content.put(manifestBytes), size: manifestBytes.length };
    const image: ExportedImage = { descriptor: desc, manifests: [{ descriptor: desc, manifest, config: JSON.parse(configBytes.toString()) }] };
    assert.equal(await publishImage(client, content, ref, image, { sending: uploads.sending }), desc.digest);

    for (const d of [layer, lateLayer, config]) {
      const res = await fetch(`http://${host}/v2/${ref.repository}/blobs/${d.digest}`, { method: "HEAD" });
      assert.equal(res.status, 200, `${d.digest} is in the registry`);
    }
    const got = await client.fetchManifest(ref);
    assert.equal(got.digest, desc.digest);
  } finally {
    client.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a manifest the registry refuses for a blob it lacks: the blobs are asked for again and the manifest sent once more", async () => {
  const host = await testRegistry();
  const dir = await mkdtemp(join(tmpdir(), "tanto-publisher-"));
  const client = new RegistryClient();
  try {
    const content = await LocalContentStore.open(join(dir, "content"));
    const ref = parseReference(`${host}/publisher-retry/app:${Date.now()}`);
    const layerBytes = randomBytes(4096);
    const configBytes = encodeJson({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
    const layer: Descriptor = { mediaType: MediaType.ociLayer, digest: await content.put(layerBytes), size: layerBytes.length };
    const config: Descriptor = { mediaType: MediaType.ociConfig, digest: await content.put(configBytes), size: configBytes.length };
    const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] };
    const manifestBytes = encodeJson(manifest);
    const desc: Descriptor = { mediaType: MediaType.ociManifest, digest: await content.put(manifestBytes), size: manifestBytes.length };
    const image: ExportedImage = { descriptor: desc, manifests: [{ descriptor: desc, manifest, config: JSON.parse(configBytes.toString()) }] };
    // As when another client's push of the same layer had not landed yet: the layer counts as
    // sent, the registry does not have it, and its answer to the manifest is "blob unknown".
    const sending = new Map([[layer.digest, Promise.resolve(true)]]);
    assert.equal(await publishImage(client, content, ref, image, { sending }), desc.digest);
    const res = await fetch(`http://${host}/v2/${ref.repository}/blobs/${layer.digest}`, { method: "HEAD" });
    assert.equal(res.status, 200, "the layer was uploaded on the second round");
    assert.equal((await client.fetchManifest(ref)).digest, desc.digest);
  } finally {
    client.close();
    await rm(dir, { recursive: true, force: true });
  }
});
