/**
 * The JSON documents of an OCI image: descriptors, indexes, manifests and the
 * image config. Registries also serve Docker's schema 2 equivalents, which
 * have the same shape, so one set of types covers both.
 *
 * Parsers take the raw bytes (what was digested) and return typed values or
 * throw InvalidArgumentError naming the document and the field that is wrong.
 * Unknown fields are kept, so a config that is edited and re-encoded loses
 * nothing a newer tool wrote.
 */
import { InvalidArgumentError } from "../errors.js";
import { type Digest, isDigest } from "./digest.js";
import { isIndex, isManifest, isSchema1 } from "./media-types.js";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  /** Base64 of the content, embedded for tiny blobs. */
  data?: string;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The runtime defaults of an image (`config` in the image config JSON), Docker's capitalised keys. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Shell?: string[];
  OnBuild?: string[];
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
}

export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: History[];
}

export type ManifestOrIndex = { kind: "index"; mediaType: string; index: Index } | { kind: "manifest"; mediaType: string; manifest: Manifest };

type Json = Record<string, unknown>;

function decode(data: Uint8Array | string, what: string): Json {
  const text = typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`invalid ${what}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(value)) throw new InvalidArgumentError(`invalid ${what}: want a JSON object`);
  return value;
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function fail(what: string, field: string, want: string): never {
  throw new InvalidArgumentError(`invalid ${what}: ${field} ${want}`);
}

function optString(o: Json, key: string, what: string): void {
  if (o[key] !== undefined && typeof o[key] !== "string") fail(what, key, "must be a string");
}

function optStringArray(o: Json, key: string, what: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(what, key, "must be an array of strings");
}

function optStringMap(o: Json, key: string, what: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === "string")) fail(what, key, "must be an object of strings");
}

function optObjectMap(o: Json, key: string, what: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (!isObject(v) || !Object.values(v).every(isObject)) fail(what, key, "must be an object of objects");
}

function schemaVersion2(o: Json, what: string): void {
  if (o.schemaVersion !== 2) fail(what, "schemaVersion", `must be 2, got ${JSON.stringify(o.schemaVersion)}`);
}

export function validatePlatform(value: unknown, what = "platform"): Platform {
  if (!isObject(value)) fail(what, "platform", "must be an object");
  if (typeof value.os !== "string" || value.os === "") fail(what, "os", "must be a non-empty string");
  if (typeof value.architecture !== "string" || value.architecture === "") fail(what, "architecture", "must be a non-empty string");
  optString(value, "variant", what);
  optString(value, "os.version", what);
  optStringArray(value, "os.features", what);
  return value as unknown as Platform;
}

export function validateDescriptor(value: unknown, what = "descriptor"): Descriptor {
  if (!isObject(value)) throw new InvalidArgumentError(`invalid ${what}: want an object`);
  if (typeof value.mediaType !== "string" || value.mediaType === "") fail(what, "mediaType", "must be a non-empty string");
  if (typeof value.digest !== "string" || !isDigest(value.digest)) fail(what, "digest", `must be sha256:<64 hex>, got ${JSON.stringify(value.digest)}`);
  if (typeof value.size !== "number" || !Number.isSafeInteger(value.size) || value.size < 0) {
    fail(what, "size", `must be a non-negative integer, got ${JSON.stringify(value.size)}`);
  }
  optStringArray(value, "urls", what);
  optStringMap(value, "annotations", what);
  optString(value, "artifactType", what);
  optString(value, "data", what);
  if (value.platform !== undefined) validatePlatform(value.platform, `${what} platform`);
  return value as unknown as Descriptor;
}

export function validateIndex(o: Json, what = "image index"): Index {
  schemaVersion2(o, what);
  optString(o, "mediaType", what);
  if (typeof o.mediaType === "string" && !isIndex(o.mediaType)) fail(what, "mediaType", `"${o.mediaType}" is not an index type`);
  if (!Array.isArray(o.manifests)) fail(what, "manifests", "must be an array");
  for (const [i, d] of o.manifests.entries()) validateDescriptor(d, `${what}: manifests[${i}]`);
  if (o.subject !== undefined) validateDescriptor(o.subject, `${what}: subject`);
  optStringMap(o, "annotations", what);
  return o as unknown as Index;
}

export function validateManifest(o: Json, what = "image manifest"): Manifest {
  schemaVersion2(o, what);
  optString(o, "mediaType", what);
  if (typeof o.mediaType === "string" && !isManifest(o.mediaType)) fail(what, "mediaType", `"${o.mediaType}" is not an image manifest type`);
  if (o.config === undefined) fail(what, "config", "is missing");
  validateDescriptor(o.config, `${what}: config`);
  if (!Array.isArray(o.layers)) fail(what, "layers", "must be an array");
  for (const [i, d] of o.layers.entries()) validateDescriptor(d, `${what}: layers[${i}]`);
  if (o.subject !== undefined) validateDescriptor(o.subject, `${what}: subject`);
  optStringMap(o, "annotations", what);
  return o as unknown as Manifest;
}

export function parseIndex(data: Uint8Array | string): Index {
  return validateIndex(decode(data, "image index"));
}

export function parseManifest(data: Uint8Array | string): Manifest {
  return validateManifest(decode(data, "image manifest"));
}

/**
 * Parse what a registry answered for a manifest request. The `mediaType`
 * field wins over the Content-Type header (some registries send a generic
 * one); without either, the shape decides.
 */
export function parseManifestOrIndex(data: Uint8Array | string, contentType?: string): ManifestOrIndex {
  const o = decode(data, "manifest");
  const mt = typeof o.mediaType === "string" && o.mediaType !== "" ? o.mediaType : contentType;
  if (o.schemaVersion === 1 || (mt !== undefined && isSchema1(mt) && o.schemaVersion !== 2)) {
    throw new InvalidArgumentError("invalid manifest: Docker image manifest schema 1 is not supported; push the image again with a current client");
  }
  if (mt !== undefined && isIndex(mt)) return { kind: "index", mediaType: mt, index: validateIndex(o) };
  if (mt !== undefined && isManifest(mt)) return { kind: "manifest", mediaType: mt, manifest: validateManifest(o) };
  if (Array.isArray(o.manifests)) return { kind: "index", mediaType: mt ?? "application/vnd.oci.image.index.v1+json", index: validateIndex(o) };
  if (o.config !== undefined) return { kind: "manifest", mediaType: mt ?? "application/vnd.oci.image.manifest.v1+json", manifest: validateManifest(o) };
  throw new InvalidArgumentError(`invalid manifest: unsupported media type ${JSON.stringify(mt ?? null)}`);
}

/** Docker writes `null` for absent lists (`"Cmd": null`); they mean the same as a missing key. */
function dropNulls(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== null) out[k] = v;
  return out;
}

export function validateImageConfig(value: Json, what = "image config"): ImageConfig {
  const o = dropNulls(value);
  if (typeof o.architecture !== "string" || o.architecture === "") fail(what, "architecture", "must be a non-empty string");
  if (typeof o.os !== "string" || o.os === "") fail(what, "os", "must be a non-empty string");
  optString(o, "variant", what);
  optString(o, "created", what);
  optString(o, "author", what);
  optString(o, "os.version", what);
  optStringArray(o, "os.features", what);

  if (!isObject(o.rootfs)) fail(what, "rootfs", "must be an object");
  if (o.rootfs.type !== "layers") fail(what, "rootfs.type", `must be "layers", got ${JSON.stringify(o.rootfs.type)}`);
  const diffIds = o.rootfs.diff_ids ?? [];
  if (!Array.isArray(diffIds)) fail(what, "rootfs.diff_ids", "must be an array");
  diffIds.forEach((d, i) => {
    if (typeof d !== "string" || !isDigest(d)) fail(what, `rootfs.diff_ids[${i}]`, `must be a digest, got ${JSON.stringify(d)}`);
  });
  o.rootfs = { ...o.rootfs, diff_ids: diffIds };

  if (o.config !== undefined) {
    if (!isObject(o.config)) fail(what, "config", "must be an object");
    const c = dropNulls(o.config);
    const w = `${what} config`;
    for (const k of ["User", "WorkingDir", "StopSignal"]) optString(c, k, w);
    for (const k of ["Env", "Entrypoint", "Cmd", "Shell", "OnBuild"]) optStringArray(c, k, w);
    optStringMap(c, "Labels", w);
    optObjectMap(c, "ExposedPorts", w);
    optObjectMap(c, "Volumes", w);
    for (const e of (c.Env as string[] | undefined) ?? []) {
      if (!e.includes("=")) fail(w, "Env", `entry ${JSON.stringify(e)} must be KEY=VALUE`);
    }
    o.config = c;
  }

  if (o.history !== undefined) {
    if (!Array.isArray(o.history) || !o.history.every(isObject)) fail(what, "history", "must be an array of objects");
  }
  return o as unknown as ImageConfig;
}

export function parseImageConfig(data: Uint8Array | string): ImageConfig {
  return validateImageConfig(decode(data, "image config"));
}

/** The bytes of a JSON document as pushed: compact, so that its digest is stable for equal input. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}
