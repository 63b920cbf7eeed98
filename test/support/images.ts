/**
 * Test images built from Debian packages, since no public registry is
 * reachable: a busybox image from busybox-static (one layer: the static
 * binary, a symlink per applet, /etc/passwd and /etc/group). Built with the
 * project's own layer writer and pushed with its own registry client.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { buffer } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import { packDirectory } from "../../src/archive/write-layer.js";
import { LocalContentStore } from "../../src/content/local-content-store.js";
import { type Digest, sha256 } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { parseReference } from "../../src/oci/reference.js";
import { RegistryClient } from "../../src/registry/registry-client.js";
import { extractBusybox, FOREIGN_ARCHES, type ForeignArch, foreignBusyboxDebs } from "./foreign-busybox.js";

const BUSYBOX = "/bin/busybox";

/** Write the busybox root filesystem into `dir`, with `binary` (by default the host's) as /bin/busybox. */
export async function busyboxRootfs(dir: string, binary = BUSYBOX): Promise<void> {
  for (const d of ["bin", "etc", "tmp", "root", "var", "home", "usr/bin", "dev", "proc", "sys"]) {
    await fs.mkdir(path.join(dir, d), { recursive: true });
  }
  await fs.chmod(path.join(dir, "tmp"), 0o1777);
  await fs.copyFile(binary, path.join(dir, "bin/busybox"));
  await fs.chmod(path.join(dir, "bin/busybox"), 0o755);
  // The host's applet list: another architecture's binary may not run here.
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" })
    .split("\n")
    .filter((a) => a && a !== "busybox");
  for (const applet of applets) await fs.symlink("busybox", path.join(dir, "bin", applet));
  await fs.writeFile(path.join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  await fs.writeFile(path.join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  // Fixed times: the same busybox always makes the same layer, so images (and caches) stay equal across pushes.
  await setTimes(dir, new Date("2000-01-01T00:00:00Z"));
}

async function setTimes(p: string, time: Date): Promise<void> {
  const st = await fs.lstat(p);
  if (st.isDirectory()) for (const name of await fs.readdir(p)) await setTimes(path.join(p, name), time);
  await fs.lutimes(p, time, time);
}

export interface PushedImage {
  ref: string;
  digest: Digest;
}

/** A layer for `pushImage`: a tar (uncompressed) and how to ship it. */
export interface TestLayer {
  tar: Buffer;
  compression: "gzip" | "none";
}

/** The busybox root filesystem as a layer. */
export async function busyboxLayer(binary = BUSYBOX): Promise<TestLayer> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-fixture-"));
  try {
    await busyboxRootfs(work, binary);
    return { tar: await buffer(packDirectory(work)), compression: "gzip" };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Push an image of `layers` to `registryHost` under each of `names`. */
export async function pushImage(
  registryHost: string,
  names: string[],
  layers: TestLayer[],
  imageConfig: Record<string, unknown> = { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
): Promise<PushedImage[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-fixture-"));
  const client = new RegistryClient({ hosts: { [registryHost]: { http: true } } });
  try {
    const store = await LocalContentStore.open(path.join(work, "content"));
    const descriptors = [];
    for (const layer of layers) {
      const bytes = layer.compression === "gzip" ? gzipSync(layer.tar) : layer.tar;
      const digest = await store.put(bytes);
      const mediaType = layer.compression === "gzip" ? MediaType.ociLayerGzip : MediaType.ociLayer;
      descriptors.push({ mediaType, digest, size: bytes.length });
    }
    const config = {
      architecture: goArch(),
      os: "linux",
      config: imageConfig,
      rootfs: { type: "layers", diff_ids: layers.map((l) => sha256(l.tar)) },
      history: layers.map(() => ({ created_by: "tanto test fixture" })),
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = await store.put(configBytes);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
      layers: descriptors,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const pushed: PushedImage[] = [];
    for (const name of names) {
      const ref = parseReference(`${registryHost}/${name}`);
      for (const d of [...descriptors, manifest.config]) await client.pushBlob(ref, d, store);
      pushed.push({ ref: `${registryHost}/${name}`, digest: await client.pushManifest(ref, manifestBytes, MediaType.ociManifest) });
    }
    return pushed;
  } finally {
    client.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Build the busybox image and push it to `registryHost` as each of `names` (e.g. "busybox:latest"). */
export async function pushBusybox(registryHost: string, names: string[]): Promise<PushedImage[]> {
  return pushImage(registryHost, names, [await busyboxLayer()]);
}

function goArch(): string {
  return (
    { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" }[process.arch as string] ?? process.arch
  );
}

/** One platform's image for `pushIndex`. */
export interface PlatformImage {
  platform: { os: string; architecture: string; variant?: string };
  layers: TestLayer[];
}

/**
 * Push one multi-platform image (an OCI index with a manifest per platform)
 * to `registryHost` under each of `names`. Returns the index's digest, and
 * each platform's manifest digest by "os/arch[/variant]".
 */
export async function pushIndex(
  registryHost: string,
  names: string[],
  images: PlatformImage[],
  imageConfig: Record<string, unknown> = { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
): Promise<{ digest: Digest; manifests: Map<string, Digest> }> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-fixture-"));
  const client = new RegistryClient({ hosts: { [registryHost]: { http: true } } });
  try {
    const store = await LocalContentStore.open(path.join(work, "content"));
    const built = [];
    for (const image of images) {
      const layers = [];
      for (const layer of image.layers) {
        const bytes = layer.compression === "gzip" ? gzipSync(layer.tar) : layer.tar;
        layers.push({
          mediaType: layer.compression === "gzip" ? MediaType.ociLayerGzip : MediaType.ociLayer,
          digest: await store.put(bytes),
          size: bytes.length,
        });
      }
      const config = Buffer.from(
        JSON.stringify({
          ...image.platform,
          config: imageConfig,
          rootfs: { type: "layers", diff_ids: image.layers.map((l) => sha256(l.tar)) },
          history: image.layers.map(() => ({ created_by: "tanto test fixture" })),
        }),
      );
      const configDesc = { mediaType: MediaType.ociConfig, digest: await store.put(config), size: config.length };
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers }));
      built.push({ image, blobs: [...layers, configDesc], manifest, digest: sha256(manifest) });
    }
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: built.map((b) => ({ mediaType: MediaType.ociManifest, digest: b.digest, size: b.manifest.length, platform: b.image.platform })),
      }),
    );
    let digest: Digest | undefined;
    for (const name of names) {
      const ref = parseReference(`${registryHost}/${name}`);
      for (const b of built) {
        for (const d of b.blobs) await client.pushBlob(ref, d, store);
        await client.pushManifest(parseReference(`${registryHost}/${ref.repository}@${b.digest}`), b.manifest, MediaType.ociManifest);
      }
      digest = await client.pushManifest(ref, index, MediaType.ociIndex);
    }
    const key = (p: PlatformImage["platform"]) => [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join("/");
    return { digest: digest ?? sha256(index), manifests: new Map(built.map((b) => [key(b.image.platform), b.digest])) };
  } finally {
    client.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * busybox for the host's platform and every one of `foreign` (Debian's
 * busybox-static for those architectures), pushed as one multi-platform
 * image under each of `names`.
 */
export async function pushMultiPlatformBusybox(registryHost: string, names: string[], foreign: readonly ForeignArch[] = FOREIGN_ARCHES) {
  const debs = await foreignBusyboxDebs(foreign);
  const images: PlatformImage[] = [{ platform: { os: "linux", architecture: goArch() }, layers: [await busyboxLayer()] }];
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-fixture-"));
  try {
    for (const a of foreign) {
      const binary = path.join(work, `busybox-${a.deb}`);
      await extractBusybox(debs.get(a.deb)!, binary);
      images.push({
        platform: { os: "linux", architecture: a.architecture, ...(a.variant ? { variant: a.variant } : {}) },
        layers: [await busyboxLayer(binary)],
      });
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return pushIndex(registryHost, names, images);
}
