import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../errors.js";
import { sha256 } from "./digest.js";
import { parseImageConfig, parseManifest, parseManifestOrIndex } from "./image.js";
import { MediaType } from "./media-types.js";

const d = sha256("x");

test("manifests and indexes parse by mediaType or shape", () => {
  const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: d, size: 1 }, layers: [] };
  assert.equal(parseManifestOrIndex(JSON.stringify(manifest)).kind, "manifest");
  const index = { schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, digest: d, size: 1, platform: { os: "linux", architecture: "amd64" } }] };
  assert.equal(parseManifestOrIndex(JSON.stringify(index)).kind, "index");
  assert.throws(() => parseManifestOrIndex(JSON.stringify({ schemaVersion: 1, name: "x" })), /schema 1 is not supported/);
});

test("invalid documents name the field", () => {
  const bad = { schemaVersion: 2, config: { mediaType: MediaType.ociConfig, digest: "sha256:nope", size: 1 }, layers: [] };
  assert.throws(
    () => parseManifest(JSON.stringify(bad)),
    (e: unknown) => e instanceof InvalidArgumentError && /config: digest must be sha256/.test(e.message),
  );
  assert.throws(() => parseManifest("{"), /invalid image manifest: not valid JSON/);
  assert.throws(() => parseManifest(JSON.stringify({ ...bad, config: { ...bad.config, digest: d, size: -1 } })), /size must be a non-negative integer/);
});

test("image config: Docker nulls are dropped, fields checked", () => {
  const cfg = parseImageConfig(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin"], Cmd: null, Entrypoint: ["/bin/sh"], Labels: { a: "b" }, ExposedPorts: { "80/tcp": {} }, WorkingDir: "/w" },
      rootfs: { type: "layers", diff_ids: [d] },
      history: [{ created_by: "x" }],
      container_config: { kept: true },
    }),
  );
  assert.equal(cfg.config?.Cmd, undefined);
  assert.deepEqual(cfg.config?.Entrypoint, ["/bin/sh"]);
  assert.deepEqual(cfg.rootfs.diff_ids, [d]);
  assert.deepEqual((cfg as unknown as Record<string, unknown>).container_config, { kept: true });
  assert.throws(() => parseImageConfig(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "x" } })), /rootfs.type must be "layers"/);
  assert.throws(
    () => parseImageConfig(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, config: { Env: ["X"] } })),
    /Env entry "X" must be KEY=VALUE/,
  );
});
