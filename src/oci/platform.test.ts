import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../errors.js";
import type { Digest } from "./digest.js";
import type { Descriptor, Index } from "./image.js";
import { isIndex, isManifest, layerCompression, MediaType } from "./media-types.js";
import { formatPlatform, hostPlatform, matchPlatform, normalizePlatform, parsePlatform, selectManifest } from "./platform.js";

test("parse and format platforms", () => {
  assert.deepEqual(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/x86_64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/arm"), { os: "linux", architecture: "arm", variant: "v7" });
  assert.deepEqual(parsePlatform("linux/arm/6"), { os: "linux", architecture: "arm", variant: "v6" });
  assert.equal(formatPlatform(parsePlatform("linux/arm64")), "linux/arm64");
  assert.equal(formatPlatform(parsePlatform("linux/arm64/v8")), "linux/arm64");
  assert.equal(formatPlatform(parsePlatform("linux/arm/v7")), "linux/arm/v7");
  assert.equal(formatPlatform({ os: "linux", architecture: "amd64" }), "linux/amd64");
  assert.throws(() => parsePlatform("linux"), InvalidArgumentError);
  assert.throws(() => parsePlatform("linux/amd64/v1/x"), /invalid platform "linux\/amd64\/v1\/x"/);
});

test("host platform is normalised", () => {
  const p = hostPlatform();
  assert.equal(p.os, "linux");
  assert.deepEqual(normalizePlatform(p), p);
  if (process.arch === "x64") assert.deepEqual(p, { os: "linux", architecture: "amd64" });
  if (process.arch === "arm64") assert.deepEqual(p, { os: "linux", architecture: "arm64", variant: "v8" });
});

test("matching", () => {
  assert.ok(matchPlatform(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64" }));
  assert.ok(matchPlatform(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64", variant: "v3" }));
  assert.ok(!matchPlatform(parsePlatform("linux/amd64"), { os: "linux", architecture: "arm64" }));
  assert.ok(!matchPlatform(parsePlatform("linux/amd64"), { os: "windows", architecture: "amd64" }));
  assert.ok(matchPlatform(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v6" }));
  assert.ok(!matchPlatform(parsePlatform("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v7" }));
});

const dg = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;
const entry = (c: string, platform?: string, mediaType: string = MediaType.ociManifest): Descriptor => {
  const d: Descriptor = { mediaType, digest: dg(c), size: 100 };
  if (platform) {
    const [os, architecture, variant] = platform.split("/") as [string, string, string | undefined];
    d.platform = variant ? { os, architecture, variant } : { os, architecture };
  }
  return d;
};

test("selectManifest picks the best entry", () => {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [entry("1", "linux/amd64"), entry("2", "linux/arm/v6"), entry("3", "linux/arm/v7"), entry("4", "linux/arm64/v8"), entry("5", "unknown/unknown")],
  };
  assert.equal(selectManifest(index, parsePlatform("linux/amd64"))?.digest, dg("1"));
  assert.equal(selectManifest(index, parsePlatform("linux/arm64"))?.digest, dg("4"));
  assert.equal(selectManifest(index, parsePlatform("linux/arm/v7"))?.digest, dg("3"));
  assert.equal(selectManifest(index, parsePlatform("linux/arm/v6"))?.digest, dg("2"));
  assert.equal(selectManifest(index, parsePlatform("linux/s390x")), undefined);

  const onlyV6: Index = { schemaVersion: 2, manifests: [entry("2", "linux/arm/v5"), entry("3", "linux/arm/v6")] };
  assert.equal(selectManifest(onlyV6, parsePlatform("linux/arm/v7"))?.digest, dg("3"));

  const noPlatform: Index = { schemaVersion: 2, manifests: [entry("7"), entry("8", "linux/amd64", "application/vnd.example")] };
  assert.equal(selectManifest(noPlatform, parsePlatform("linux/amd64"))?.digest, dg("7"));
});

test("media type helpers", () => {
  assert.ok(isIndex(MediaType.ociIndex) && isIndex(MediaType.dockerManifestList));
  assert.ok(isManifest(MediaType.ociManifest) && isManifest(`${MediaType.dockerManifest}; charset=utf-8`));
  assert.ok(!isManifest(MediaType.ociIndex));
  assert.equal(layerCompression(MediaType.ociLayer), "none");
  assert.equal(layerCompression(MediaType.ociLayerGzip), "gzip");
  assert.equal(layerCompression(MediaType.ociLayerZstd), "zstd");
  assert.equal(layerCompression(MediaType.dockerLayerGzip), "gzip");
  assert.equal(layerCompression(MediaType.dockerLayerForeignGzip), "gzip");
  assert.equal(layerCompression(MediaType.ociLayerNondistributableZstd), "zstd");
  assert.throws(() => layerCompression("application/json"), /unsupported layer media type "application\/json"/);
});
