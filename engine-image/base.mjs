// The Debian 12 base of the engine image, built on the host with mmdebstrap
// (no public image registry is reachable, Debian's mirrors are) and kept as
// an OCI image layout tarball that the pipeline brings in with
// `container().import(host().file(...))`: no helper image needed to unpack it.
//
// mmdebstrap runs once per recipe: the file is named after a hash of the
// package list, mirrors, suite and snapshot label, in ~/.cache/tanto (or
// $TANTO_CACHE_DIR), so CI, hack/dev and the tests share it. Bump
// BASE_SNAPSHOT to pick up newer Debian packages. It takes about a minute.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import tar from "tar-stream";

/** A label for "the Debian packages as of": change it to rebuild the base. */
export const BASE_SNAPSHOT = "2026-11";

/** qemu user-mode emulators kept (the others in qemu-user-static are ~300 MB nobody uses). */
export const QEMU_ARCHES = ["aarch64", "arm", "i386", "mips64", "mips64el", "ppc64le", "riscv64", "s390x", "x86_64"];

export const BASE_RECIPE = {
  snapshot: BASE_SNAPSHOT,
  suite: "bookworm",
  variant: "minbase",
  mirrors: [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
  ],
  packages: [
    // the worker: git sources, ssh for git, xz and zstd layers
    "git",
    "openssh-client",
    "xz-utils",
    "zstd",
    "ca-certificates",
    // containers: runc, tini (init inside them and for the engine), mount, xattrs
    "runc",
    "tini",
    "mount",
    "attr",
    // networking: CNI plugins, iptables (+ip6tables), nft (service isolation), dnsmasq's binary (no service), ip
    "containernetworking-plugins",
    "iptables",
    "nftables",
    "dnsmasq-base",
    "iproute2",
    // sshfs volumes (Query.sshfsVolume: FUSE mounts on the engine, bound into execs)
    "sshfs",
    // the relay of privileged nesting (a container's 127.0.0.1 port → the engine)
    "socat",
    // other architectures
    "qemu-user-static",
    // debugging inside the container (ps, pgrep)
    "procps",
  ],
  dpkgOptions: [
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/bin/qemu-*-static",
    ...QEMU_ARCHES.map((a) => `path-include=/usr/bin/qemu-${a}-static`),
  ],
  // Fixed timestamps: the same packages give the same tarball.
  sourceDateEpoch: 1735689600,
};

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function cacheDir() {
  if (process.env.TANTO_CACHE_DIR) return process.env.TANTO_CACHE_DIR;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "tanto");
}

export function baseRecipeHash(recipe = BASE_RECIPE) {
  return createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 16);
}

/**
 * The base image tarball for `recipe`: from the cache, or made now.
 * Returns { path, cached, seconds }.
 */
export async function ensureBase({ recipe = BASE_RECIPE, log = (l) => process.stderr.write(l + "\n") } = {}) {
  return ensureDebianImage({ recipe, name: "engine-base", log });
}

/**
 * A Debian image made by mmdebstrap from `recipe`, cached as
 * `<cache>/<name>-<hash of recipe>.tar`. `stage(work)` may prepare extra
 * content before mmdebstrap runs and return mmdebstrap `--customize-hook`s
 * that copy it in; whatever it reads must be named in the recipe (the hash
 * is the only cache key). Returns { path, cached, seconds }.
 */
export async function ensureDebianImage({ recipe, name, log = (l) => process.stderr.write(l + "\n"), stage = async () => [] }) {
  const dir = cacheDir();
  const file = path.join(dir, `${name}-${baseRecipeHash(recipe)}.tar`);
  if (await exists(file)) return { path: file, cached: true, seconds: 0 };
  await fs.mkdir(dir, { recursive: true });
  const started = Date.now();
  const work = await fs.mkdtemp(path.join(dir, ".base-"));
  try {
    const hooks = await stage(work);
    const rootfs = path.join(work, "rootfs.tar");
    log(`${name}: running mmdebstrap (${recipe.suite}, ${recipe.packages.length} packages); about a minute…`);
    await mmdebstrap(recipe, rootfs, hooks);
    const tmp = path.join(work, "image.tar");
    await writeOciLayout(rootfs, tmp, recipe.env ?? []);
    // Another build may have finished first: either file is the same recipe.
    await fs.rename(tmp, file);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  log(`${name}: ${file} (${seconds.toFixed(1)}s)`);
  return { path: file, cached: false, seconds };
}

async function mmdebstrap(recipe, out, hooks = []) {
  const args = [
    `--variant=${recipe.variant}`,
    "--mode=root",
    "--format=tar",
    "--quiet",
    '--aptopt=APT::Install-Recommends "false"',
    ...recipe.dpkgOptions.map((o) => `--dpkgopt=${o}`),
    `--include=${recipe.packages.join(",")}`,
    ...hooks.map((h) => `--customize-hook=${h}`),
    recipe.suite,
    out,
    ...recipe.mirrors,
  ];
  await new Promise((resolve, reject) => {
    const child = spawn("mmdebstrap", args, {
      stdio: ["ignore", "inherit", "pipe"],
      env: { ...process.env, SOURCE_DATE_EPOCH: String(recipe.sourceDateEpoch) },
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr = (stderr + d).slice(-8000)));
    child.on("error", (err) =>
      reject(new Error(err.code === "ENOENT" ? "mmdebstrap not found: apt-get install mmdebstrap (scripts/install.sh does)" : `mmdebstrap: ${err.message}`)),
    );
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`mmdebstrap failed (exit ${code}):\n${stderr.trim()}`))));
  });
}

/** Wrap a root filesystem tar as a one-layer OCI image layout tarball (uncompressed layer). */
async function writeOciLayout(rootfsTar, out, env = []) {
  const layer = await digestFile(rootfsTar);
  const arch = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" }[process.arch] ?? process.arch;
  const config = json({
    architecture: arch,
    os: "linux",
    config: { Env: [`PATH=${PATH}`, ...env] },
    rootfs: { type: "layers", diff_ids: [layer.digest] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: "mmdebstrap (engine-image/base.mjs)" }],
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer.digest, size: layer.size }],
  });
  const index = json({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifest.digest, size: manifest.size, platform: { architecture: arch, os: "linux" } },
    ],
  });
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(out));
  const add = (name, size, body) =>
    new Promise((resolve, reject) => {
      const header = { name, size, mode: 0o644, mtime: new Date(0) };
      const done = (err) => (err ? reject(err) : resolve());
      if (Buffer.isBuffer(body)) return void pack.entry(header, body, done);
      pipeline(body, pack.entry(header, done)).catch(reject);
    });
  const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  await add("oci-layout", layout.length, layout);
  for (const blob of [config, manifest]) await add(`blobs/sha256/${hex(blob.digest)}`, blob.size, blob.bytes);
  await add(`blobs/sha256/${hex(layer.digest)}`, layer.size, createReadStream(rootfsTar));
  await add("index.json", index.size, index.bytes);
  pack.finalize();
  await writing;
}

function json(value) {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, size: bytes.length, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

async function digestFile(file) {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

const hex = (digest) => digest.slice("sha256:".length);

async function exists(p) {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/**
 * What `node engine-image/<name>.mjs` does for a module runtime base: build it (or take it from
 * the cache), point dist/share/<file> (the host engine's lookup) at it, print the result as JSON.
 */
export async function ensureAndLinkRuntime(name, file, ensure) {
  const result = await ensure();
  const share = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "share");
  await fs.mkdir(share, { recursive: true });
  const link = path.join(share, file);
  await fs.rm(link, { force: true });
  await fs.symlink(result.path, link);
  process.stderr.write(`${name}: ${result.cached ? "from cache" : `built in ${result.seconds.toFixed(1)}s`}: ${link} -> ${result.path}\n`);
  process.stdout.write(JSON.stringify({ ...result, link }) + "\n");
}

/**
 * Run `cmd` while building a runtime image; resolves with the last 8000 characters of its output
 * (stdout and stderr), rejects with them when it fails. `missing` is the error text when `cmd` is
 * not installed.
 */
export function runStep(cmd, args, opts = {}, missing = undefined) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (out = (out + d).slice(-8000)));
    child.stderr.setEncoding("utf8").on("data", (d) => (out = (out + d).slice(-8000)));
    child.on("error", (err) => reject(err.code === "ENOENT" && missing ? new Error(missing) : err));
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} failed (exit ${code}):\n${out.trim()}`))));
  });
}
