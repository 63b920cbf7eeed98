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
import { sha256, type Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { parseReference } from "../../src/oci/reference.js";
import { RegistryClient } from "../../src/registry/registry-client.js";

const BUSYBOX = "/bin/busybox";

/** Write the busybox root filesystem into `dir`. */
export async function busyboxRootfs(dir: string): Promise<void> {
  for (const d of ["bin", "etc", "tmp", "root", "var", "home", "usr/bin", "dev", "proc", "sys"]) {
    await fs.mkdir(path.join(dir, d), { recursive: true });
  }
  await fs.chmod(path.join(dir, "tmp"), 0o1777);
  await fs.copyFile(BUSYBOX, path.join(dir, "bin/busybox"));
  await fs.chmod(path.join(dir, "bin/busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
  for (const applet of applets) await fs.symlink("busybox", path.join(dir, "bin", applet));
  await fs.writeFile(path.join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  await fs.writeFile(path.join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
}

export interface PushedImage {
  ref: string;
  digest: Digest;
}

/** Build the busybox image and push it to `registryHost` as each of `names` (e.g. "busybox:latest"). */
export async function pushBusybox(registryHost: string, names: string[]): Promise<PushedImage[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-fixture-"));
  try {
    const rootfs = path.join(work, "rootfs");
    await fs.mkdir(rootfs);
    await busyboxRootfs(rootfs);
    const store = await LocalContentStore.open(path.join(work, "content"));

    // The image is small: hash the tar for the diff ID, then store it gzipped.
    const tarBytes = await buffer(packDirectory(rootfs));
    const layerBytes = gzipSync(tarBytes);
    const layerDigest = await store.put(layerBytes);
    const layerSize = layerBytes.length;

    const config = {
      architecture: goArch(),
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [sha256(tarBytes)] },
      history: [{ created_by: "tanto test fixture: busybox-static" }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = await store.put(configBytes);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
      layers: [{ mediaType: MediaType.ociLayerGzip, digest: layerDigest, size: layerSize }],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));

    const client = new RegistryClient({ hosts: { [registryHost]: { http: true } } });
    const pushed: PushedImage[] = [];
    try {
      for (const name of names) {
        const ref = parseReference(`${registryHost}/${name}`);
        await client.pushBlob(ref, manifest.layers[0]!, store);
        await client.pushBlob(ref, manifest.config, store);
        const digest = await client.pushManifest(ref, manifestBytes, MediaType.ociManifest);
        pushed.push({ ref: `${registryHost}/${name}`, digest });
      }
    } finally {
      client.close();
    }
    return pushed;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

function goArch(): string {
  return { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" }[process.arch as string] ?? process.arch;
}
