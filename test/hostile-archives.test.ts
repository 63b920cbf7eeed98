/**
 * Hostile layers and image archives, end to end: every crafted archive goes
 * through a real engine the two ways untrusted tars reach it, and must write
 * nothing outside the container's root filesystem.
 *
 *   layer:   an image pushed to the test registry (busybox + the crafted
 *            layers), pulled with `container.from`; later layers are applied
 *            through the mounted overlay, as every pull does.
 *   import:  the same image as a tarball (OCI layout or `docker save`) in the
 *            client's working directory, brought in with `host().file` and
 *            `container().import`.
 *
 * Then a shell in the container shows what landed inside (or the query must
 * fail with a clear error), and every test checks that nothing escaped: a
 * canary tree at /tmp/tanto-hostile-<random> (the host path the archives
 * aim at) and a canary file next to the engine's root are byte-for-byte and
 * metadata-for-metadata unchanged, the host's /etc/passwd and /etc/group
 * hash the same, no `tanto-pwned-<random>` file appeared anywhere the
 * archives name, and the engine still answers `{ version }`.
 *
 * Archives name only paths under the random canary directory (and
 * /etc/passwd, whose hash is all that is checked), so a broken engine cannot
 * damage this machine's real files.
 *
 * All queries go through one `tanto session` (the SDKs' protocol: POST
 * /query on its port with the session token), whose working directory is
 * this file's temp dir.
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import tar, { type Header } from "tar-stream";
import { LocalContentStore } from "../src/content/local-content-store.js";
import { type Digest, digestHex, sha256 } from "../src/oci/digest.js";
import { MediaType } from "../src/oci/media-types.js";
import { parseReference } from "../src/oci/reference.js";
import { RegistryClient } from "../src/registry/registry-client.js";
import { CLI, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { busyboxLayer, pushImage, type TestLayer } from "./support/images.js";

// ---------------------------------------------------------------- crafting tars and images

type Entry = Partial<Header> & Pick<Header, "name"> & { data?: string | Buffer };

const MTIME = new Date("2020-01-02T03:04:05Z");

function packTar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(c as Buffer));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  for (const { data, ...header } of entries) {
    const body = data === undefined ? Buffer.alloc(0) : Buffer.from(data);
    const mode = header.mode ?? (header.type === "directory" ? 0o755 : 0o644);
    pack.entry({ mtime: MTIME, uid: 0, gid: 0, ...header, mode, ...(body.length > 0 ? { size: body.length } : {}) }, body);
  }
  pack.finalize();
  return done;
}

const file = (name: string, data: string | Buffer, extra: Partial<Header> = {}): Entry => ({ name, type: "file", data, ...extra });
const dir = (name: string, extra: Partial<Header> = {}): Entry => ({ name, type: "directory", ...extra });
const symlink = (name: string, linkname: string): Entry => ({ name, type: "symlink", linkname });
const hardlink = (name: string, linkname: string): Entry => ({ name, type: "link", linkname });
const whiteout = (name: string): Entry => ({ name, type: "file" });

function goArch(): string {
  return ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" } as Record<string, string>)[process.arch] ?? process.arch;
}

function imageConfig(diffIds: readonly Digest[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: goArch(),
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: diffIds },
    }),
  );
}

/** An OCI image layout tarball of `layers` (uncompressed tars, shipped gzipped). */
async function ociLayout(layers: readonly Buffer[], opts: { extra?: Entry[]; diffIds?: Digest[] } = {}): Promise<Buffer> {
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer): { digest: Digest; size: number } => {
    const digest = sha256(b);
    blobs.set(digestHex(digest), b);
    return { digest, size: b.length };
  };
  const layerDescs = layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, ...put(gzipSync(l)) }));
  const config = put(imageConfig(opts.diffIds ?? layers.map((l) => sha256(l))));
  const manifest = put(
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, ...config }, layers: layerDescs }),
    ),
  );
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, ...manifest }] };
  return packTar([
    file("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" })),
    dir("blobs/"),
    dir("blobs/sha256/"),
    ...[...blobs].map(([hex, b]) => file(`blobs/sha256/${hex}`, b)),
    file("index.json", JSON.stringify(index)),
    ...(opts.extra ?? []),
  ]);
}

/** A `docker save` tarball of `layers`: manifest.json, `<id>.json`, `<id>/layer.tar`. */
async function dockerSave(layers: readonly Buffer[], opts: { diffIds?: Digest[] } = {}): Promise<Buffer> {
  const config = imageConfig(opts.diffIds ?? layers.map((l) => sha256(l)));
  const configName = `${digestHex(sha256(config))}.json`;
  const layerNames = layers.map((l, i) => `${digestHex(sha256(`${i} ${digestHex(sha256(l))}`))}/layer.tar`);
  return packTar([
    file(configName, config),
    ...layers.flatMap((l, i) => [dir(path.posix.dirname(layerNames[i]!) + "/"), file(layerNames[i]!, l)]),
    file("manifest.json", JSON.stringify([{ Config: configName, RepoTags: ["hostile:1"], Layers: layerNames }])),
  ]);
}

// ---------------------------------------------------------------- what must never change

/** Type, metadata, content and xattrs of everything below `root`. */
async function treeState(root: string): Promise<string> {
  const lines: string[] = [];
  async function walk(rel: string): Promise<void> {
    const p = path.join(root, rel);
    const st = await fs.lstat(p);
    let desc = `${rel || "."} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.ctimeMs} ${st.nlink} ${st.size} ${st.ino}`;
    if (st.isFile())
      desc += ` ${createHash("sha256")
        .update(await fs.readFile(p))
        .digest("hex")}`;
    if (st.isSymbolicLink()) desc += ` -> ${await fs.readlink(p)}`;
    lines.push(desc);
    if (st.isDirectory()) for (const name of (await fs.readdir(p)).sort()) await walk(rel === "" ? name : `${rel}/${name}`);
  }
  await walk("");
  const xattrs = execFileSync("getfattr", ["-R", "-h", "-d", "-m", "-", "--absolute-names", root], { encoding: "utf8" });
  return `${lines.join("\n")}\nxattrs:\n${xattrs}`;
}

async function fileState(p: string): Promise<string> {
  const st = await fs.stat(p);
  return `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.nlink} ${st.mtimeMs} ${createHash("sha256")
    .update(await fs.readFile(p))
    .digest("hex")}`;
}

// ---------------------------------------------------------------- the cases

/** Paths the crafted archives aim at, random for this run. */
interface Aim {
  /** The canary directory on the host, e.g. /tmp/tanto-hostile-ab12cd. */
  host: string;
  /** The same without the leading "/", e.g. tmp/tanto-hostile-ab12cd. */
  hostRel: string;
  /** A file name that must not appear anywhere: tanto-pwned-ab12cd. */
  pwned: string;
  /** The directory holding the engine's root, socket and config (and our canary file). */
  engineDir: string;
  /** The name of the canary file in engineDir: tanto-canary-ab12cd. */
  canary: string;
}

const up = (n: number): string => "../".repeat(n);

interface LayerCase {
  name: string;
  /** The crafted layers, applied on top of busybox in this order: entries, or a tar crafted byte by byte. */
  layers: (a: Aim) => Array<Entry[] | Promise<Buffer>>;
  /** How the import variant packs the image. */
  importAs: "oci" | "docker";
  /** A script run in the container and its exact stdout; or the error the query must fail with. */
  expect: ((a: Aim) => { script: string; stdout: string }) | { error: RegExp };
  /** When the crafted layers are the whole image (no busybox below), the error expected if not the same. */
  alone?: { error: RegExp };
}

async function craftLayers(c: LayerCase, a: Aim): Promise<Buffer[]> {
  return Promise.all(c.layers(a).map((l) => (Array.isArray(l) ? packTar(l) : l)));
}

/** A tar of one file whose header claims `size` bytes (octal, 11 digits), with its checksum fixed: the data is far shorter. */
async function tarClaimingSize(name: string, octalSize: string): Promise<Buffer> {
  const b = await packTar([file(name, "x".repeat(1000))]);
  b.write(`${octalSize}\0`, 124, "latin1");
  b.fill(" ", 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

const BUSYBOX_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const LONG = `${"d".repeat(120)}/${"f".repeat(150)}`;

const LAYER_CASES: LayerCase[] = [
  {
    name: "'../' entries at depths 1 to 8 land inside the rootfs",
    importAs: "oci",
    layers: (a) => [
      [1, 2, 3, 4, 5, 6, 7, 8].flatMap((d) => [
        file(`${up(d)}${a.hostRel}/target`, `depth ${d}\n`),
        file(`${up(d)}${a.canary}`, `canary ${d}\n`),
        file(`${up(d)}${a.pwned}`, `pwned ${d}\n`),
      ]),
    ],
    expect: (a) => ({ script: `cat ${a.host}/target /${a.canary} /${a.pwned}`, stdout: "depth 8\ncanary 8\npwned 8\n" }),
  },
  {
    name: "absolute entry paths are taken relative to the rootfs",
    importAs: "docker",
    layers: (a) => [
      [
        file(`${a.host}/target`, "abs target\n"),
        file(`/etc/${a.pwned}`, "abs etc\n"),
        file(`//${a.engineDir}/${a.canary}`, "abs engine\n"),
        file(`/${a.pwned}`, "abs root\n"),
      ],
    ],
    expect: (a) => ({
      script: `cat ${a.host}/target /etc/${a.pwned} ${a.engineDir}/${a.canary} /${a.pwned}`,
      stdout: "abs target\nabs etc\nabs engine\nabs root\n",
    }),
  },
  {
    name: "'./' and '../' mixtures are clamped at the rootfs",
    importAs: "oci",
    layers: (a) => [
      [
        file(`./../.${a.host}/target`, "mix 1\n"),
        file(`./a/./../../..//./tmp/./${path.basename(a.host)}/../${path.basename(a.host)}/dir/keep`, "mix 2\n"),
        file(`.././.././etc/${a.pwned}`, "mix 3\n"),
        file(`a/b/../../../../${a.pwned}`, "mix 4\n"),
      ],
    ],
    expect: (a) => ({ script: `cat ${a.host}/target ${a.host}/dir/keep /etc/${a.pwned} /${a.pwned}`, stdout: "mix 1\nmix 2\nmix 3\nmix 4\n" }),
  },
  {
    name: "a symlink to /etc, then a file through it, writes the container's /etc",
    importAs: "docker",
    // Only a new, randomly named file: even a broken engine would not overwrite a real file of /etc.
    layers: (a) => [[symlink("evil", "/etc"), file(`evil/${a.pwned}`, "via evil\n")]],
    expect: (a) => ({ script: `readlink /evil; cat /etc/${a.pwned}`, stdout: "/etc\nvia evil\n" }),
  },
  {
    name: "a symlink to the host's canary directory, then files through it, writes the container's copy",
    importAs: "oci",
    layers: (a) => [
      [symlink("hostlink", a.host), file("hostlink/target", "through\n"), file("hostlink/dir/keep", "through keep\n"), file("hostlink/new/file", "new\n")],
    ],
    expect: (a) => ({ script: `cat ${a.host}/target ${a.host}/dir/keep ${a.host}/new/file`, stdout: "through\nthrough keep\nnew\n" }),
  },
  {
    name: "a chain of symlinks with '..' is clamped at the rootfs",
    importAs: "docker",
    layers: (a) => [
      [
        dir("sub/"),
        symlink("sub/up", up(8)),
        symlink("up2", "sub/up/sub/up/.."),
        file(`up2/${a.canary}`, "chain canary\n"),
        symlink("l1", "l2"),
        symlink("l2", "sub/l3"),
        symlink("sub/l3", `${up(6)}${a.hostRel}`),
        file("l1/target", "chain target\n"),
        file(`sub/up/sub/up/${a.hostRel}/dir/keep`, "chain keep\n"),
      ],
    ],
    expect: (a) => ({ script: `cat /${a.canary} ${a.host}/target ${a.host}/dir/keep`, stdout: "chain canary\nchain target\nchain keep\n" }),
  },
  {
    name: "an absolute symlink, then directories through it, keeps their metadata inside; a directory entry replaces the symlink",
    importAs: "oci",
    layers: (a) => [
      [
        symlink("abs", a.host),
        dir("abs/newdir/", { mode: 0o777 }),
        file("abs/newdir/file", "x\n"),
        dir("abs/dir/", { mode: 0o700, mtime: new Date(0) }),
        dir("abs/", { mode: 0o711 }),
      ],
    ],
    expect: (a) => ({
      script: `stat -c '%F %a' /abs ${a.host}/newdir ${a.host}/dir; cat ${a.host}/newdir/file`,
      stdout: "directory 711\ndirectory 777\ndirectory 700\nx\n",
    }),
  },
  {
    name: "a hardlink to /etc/passwd links the container's own /etc/passwd",
    importAs: "docker",
    layers: () => [[hardlink("stolen", "/etc/passwd"), hardlink("stolen2", `${up(7)}etc/passwd`)]],
    expect: () => ({ script: "cat /stolen /stolen2", stdout: BUSYBOX_PASSWD + BUSYBOX_PASSWD }),
    alone: { error: /hardlink target "\/etc\/passwd" not found in the layer/ },
  },
  {
    name: "a hardlink through a symlink to the host is looked up in the rootfs (missing there: refused)",
    importAs: "oci",
    layers: (a) => [[symlink("out", a.host), hardlink("stolen", "out/target")]],
    expect: { error: /hardlink target "out\/target" not found in the layer/ },
  },
  {
    name: "a hardlink through a symlink to the host links the container's file of that name",
    importAs: "docker",
    layers: (a) => [[file(`${a.host}/target`, "inside target\n")], [symlink("out", a.host), hardlink("stolen", "out/target")]],
    expect: (a) => ({ script: `cat /stolen; [ /stolen -ef ${a.host}/target ] && echo same`, stdout: "inside target\nsame\n" }),
  },
  {
    name: "a hardlink to a path outside the rootfs is refused",
    importAs: "oci",
    layers: (a) => [[hardlink("stolen", `${up(7)}${a.hostRel}/target`)]],
    expect: { error: /hardlink target "(\.\.\/)+tmp\/tanto-hostile-[0-9a-f]+\/target" not found in the layer/ },
  },
  {
    name: "a hardlink to the engine's files next to its root is refused",
    importAs: "docker",
    layers: (a) => [[hardlink("stolen", `${up(4)}${a.canary}`), hardlink("stolen2", `${up(5)}engine.toml`)]],
    expect: { error: /hardlink target "(\.\.\/){4}tanto-canary-[0-9a-f]+" not found in the layer/ },
  },
  {
    name: "whiteouts with '..' remove only the container's files",
    importAs: "oci",
    layers: (a) => [
      [file(`${a.host}/target`, "inside\n"), file(`${a.host}/dir/keep`, "keep\n"), file(a.canary, "c\n"), file(`etc/${a.pwned}`, "e\n")],
      [
        whiteout(`${up(4)}${a.hostRel}/.wh.target`),
        whiteout(`${up(3)}${a.hostRel}/dir/.wh.keep`),
        whiteout(`${up(5)}etc/.wh.${a.pwned}`),
        whiteout(`${up(1)}.wh.${a.canary}`),
        whiteout(`${up(6)}.wh.${a.pwned}`),
      ],
    ],
    expect: (a) => ({
      script: `ls -A ${a.host}; echo --; ls -A ${a.host}/dir; echo --; test -e /etc/${a.pwned} || echo no etc file; test -e /${a.canary} || echo no canary`,
      stdout: "dir\n--\n--\nno etc file\nno canary\n",
    }),
  },
  {
    name: "whiteouts through a symlink to the host remove the container's files",
    importAs: "docker",
    layers: (a) => [
      [file(`${a.host}/target`, "inside\n"), file(`${a.host}/dir/keep`, "keep\n"), symlink("host", a.host)],
      [whiteout("host/.wh.target"), whiteout("host/dir/.wh.keep"), symlink("host2", a.host), whiteout("host2/.wh.link"), whiteout("host2/.wh.empty")],
    ],
    expect: (a) => ({ script: `ls -A ${a.host}; echo --; ls -A ${a.host}/dir; readlink /host`, stdout: `dir\n--\n${a.host}\n` }),
  },
  {
    name: "an opaque whiteout through a symlink to the host empties only the container's directory",
    importAs: "oci",
    layers: (a) => [
      [file(`${a.host}/target`, "inside\n"), file(`${a.host}/dir/keep`, "keep\n"), dir(`${a.host}/empty/`), symlink("host", a.host)],
      [whiteout("host/dir/.wh..wh..opq"), whiteout("host/.wh..wh..opq"), file("host/fresh", "fresh\n")],
    ],
    expect: (a) => ({ script: `ls -A ${a.host}; cat ${a.host}/fresh`, stdout: "fresh\nfresh\n" }),
  },
  {
    name: "device nodes and fifos are created inside the rootfs only",
    importAs: "docker",
    layers: (a) => [
      [
        { name: "devs/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
        { name: "devs/loop", type: "block-device", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
        { name: "devs/fifo", type: "fifo", mode: 0o620 },
        { name: `${up(3)}${a.hostRel}/fifo`, type: "fifo", mode: 0o644 },
        { name: `${a.host}/chardev`, type: "character-device", devmajor: 1, devminor: 3, mode: 0o600 },
        { name: `${up(5)}${a.pwned}`, type: "block-device", devmajor: 7, devminor: 0, mode: 0o600 },
      ],
    ],
    expect: (a) => ({
      script: `stat -c '%F %a %g %t,%T' /devs/null /devs/loop /devs/fifo ${a.host}/fifo ${a.host}/chardev /${a.pwned}`,
      stdout: [
        "character special file 666 0 1,3",
        "block special file 660 6 7,0",
        "fifo 620 0 0,0",
        "fifo 644 0 0,0",
        "character special file 600 0 1,3",
        "block special file 600 0 7,0",
        "",
      ].join("\n"),
    }),
  },
  {
    name: "setuid and setgid files keep their bits, inside the rootfs only",
    importAs: "oci",
    layers: (a) => [
      [
        file("bin/tanto-suid", "#!/bin/sh\n", { mode: 0o4755 }),
        file("bin/tanto-sgid", "#!/bin/sh\n", { mode: 0o2755, gid: 50 }),
        file("usr/local/suid-1000", "#!/bin/sh\n", { mode: 0o4750, uid: 1000, gid: 1000 }),
        file(`${up(3)}${a.hostRel}/suid`, "#!/bin/sh\n", { mode: 0o6755 }),
      ],
    ],
    expect: (a) => ({
      script: `stat -c '%a %u:%g' /bin/tanto-suid /bin/tanto-sgid /usr/local/suid-1000 ${a.host}/suid`,
      stdout: "4755 0:0\n2755 0:50\n4750 1000:1000\n6755 0:0\n",
    }),
  },
  {
    name: "a file replaced by a symlink, then written through, writes the container's files",
    importAs: "docker",
    layers: (a) => [
      [file("victim", "lower victim\n"), file("data", "lower data\n")],
      [
        symlink("victim", `${a.host}/target`),
        file("victim", "replaced\n"),
        symlink("data", `${a.host}/dir/keep`),
        symlink("w", a.host),
        file("w/target", "written through\n"),
      ],
      [file("data", "overwritten\n")],
    ],
    expect: (a) => ({
      script: `stat -c %F /victim /data; cat /victim /data ${a.host}/target; readlink /w`,
      stdout: `regular file\nregular file\nreplaced\noverwritten\nwritten through\n${a.host}\n`,
    }),
  },
  {
    name: "a directory replaced by a symlink escapes neither the writes nor the directory-metadata pass",
    importAs: "oci",
    layers: (a) => [
      [dir("q/", { mode: 0o755 }), file("q/old", "old\n")],
      [
        // Metadata of d, p/dir and q is applied at the end of the layer; by then those paths lead to the host.
        dir("d/", { mode: 0o700, mtime: new Date(0) }),
        dir("p/dir/", { mode: 0o700, mtime: new Date(0) }),
        dir("q/", { mode: 0o700, mtime: new Date(0) }),
        symlink("d", a.host),
        symlink("p", a.host),
        symlink("q", a.host),
        file("d/target", "through d\n"),
        dir("q/dir/", { mode: 0o711 }),
      ],
    ],
    expect: (a) => ({
      script: `readlink /d; readlink /p; readlink /q; cat ${a.host}/target; stat -c %a ${a.host}/dir`,
      stdout: `${a.host}\n${a.host}\n${a.host}\nthrough d\n711\n`,
    }),
  },
  {
    name: "PAX long names, link names and hardlinks (over 100 bytes) stay inside",
    importAs: "docker",
    layers: (a) => [
      [
        file(`${up(3)}${LONG}`, "deep\n"),
        symlink("long-link", LONG),
        hardlink("hard", `${up(2)}${LONG}`),
        file(`${a.host}/${"x".repeat(200)}`, "abs long\n"),
        symlink(`${"s".repeat(150)}`, `${up(12)}${a.hostRel}`),
        file(`${"s".repeat(150)}/target`, "long symlink\n"),
      ],
    ],
    expect: (a) => ({
      script: `cat /${LONG} /hard ${a.host}/${"x".repeat(200)} ${a.host}/target; readlink /long-link`,
      stdout: `deep\ndeep\nabs long\nlong symlink\n${LONG}\n`,
    }),
  },
  {
    name: "a name over 4096 bytes is refused with a clear error",
    importAs: "oci",
    layers: (a) => [[file(`${up(3)}${a.hostRel}/${Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(250, "n")).join("/")}/file`, "too long\n")]],
    expect: { error: /^layer entry "\.\.\/\.\.\/\.\.\/tmp\/tanto-hostile-[0-9a-f]+\/0n+…n+\/file": name too long \(5\d\d\d bytes;/ },
  },
  {
    name: "a path component over 255 bytes is refused with a clear error",
    importAs: "docker",
    layers: (a) => [[file(`${a.host}/${"c".repeat(300)}`, "too long\n")]],
    expect: { error: /^layer entry "\/tmp\/tanto-hostile-[0-9a-f]+\/c+…c+": name too long \(33\d bytes;/ },
  },
  {
    name: "a header claiming an 8 GiB entry in a short layer is refused",
    importAs: "oci",
    layers: (a) => [tarClaimingSize(`${up(3)}${a.hostRel}/target`, "77777777777")],
    expect: { error: /^invalid layer tar: Unexpected end of data$/ },
  },
  {
    name: "a PAX header with a negative size is refused",
    importAs: "docker",
    layers: (a) => [[file(`${up(3)}${a.hostRel}/target`, "pax\n", { pax: { size: "-600" } }), file("after", "after\n")]],
    expect: { error: /^invalid layer tar: Invalid header$/ },
  },
];

// ---------------------------------------------------------------- the suite

describe("hostile layers and archives", () => {
  let engine: TestEngine;
  let registry: string;
  let work: string;
  let aim: Aim;
  let base: TestLayer;
  let session: ChildProcess | undefined;
  let endpoint: { url: string; auth: string };

  /** Everything a crafted archive could reach on the host, as one comparable string. */
  const hostState = async (): Promise<string> => {
    const engineDirNames = (await fs.readdir(aim.engineDir)).sort().join(",");
    // Names with this run's random part, anywhere a crafted archive could have put one (apart from our own canaries).
    const rand = aim.pwned.slice("tanto-pwned-".length);
    const strays: string[] = [];
    for (const d of ["/", "/tmp", "/etc", aim.engineDir, engine.root, work]) {
      for (const name of await fs.readdir(d)) {
        const p = path.join(d, name);
        if (name.includes(rand) && p !== aim.host && p !== path.join(aim.engineDir, aim.canary)) strays.push(p);
      }
    }
    return [
      `canary tree:\n${await treeState(aim.host)}`,
      `engine canary: ${await fileState(path.join(aim.engineDir, aim.canary))}`,
      `engine config: ${await fileState(path.join(aim.engineDir, "engine.toml"))}`,
      `engine dir: ${engineDirNames}`,
      `/etc/passwd: ${await fileState("/etc/passwd")}`,
      `/etc/group: ${await fileState("/etc/group")}`,
      `stray files: ${strays.sort().join(",")}`,
    ].join("\n");
  };

  const query = async (q: string): Promise<{ data?: unknown; errors?: Array<{ message: string }> }> => {
    const res = await fetch(endpoint.url, {
      method: "POST",
      headers: { authorization: endpoint.auth, "content-type": "application/json" },
      body: JSON.stringify({ query: q }),
    });
    return (await res.json()) as { data?: unknown; errors?: Array<{ message: string }> };
  };

  /** The stdout of `script` in `container` (a GraphQL selection on Query.container), or the error. */
  const execIn = async (container: string, script: string): Promise<{ stdout?: string; error?: string }> => {
    const r = await query(`{ container { ${container} { withExec(args: ["sh", "-c", ${JSON.stringify(script)}]) { stdout } } } }`);
    if (r.errors?.length) return { error: r.errors.map((e) => e.message).join("\n") };
    const stdout = (r.data as { container: Record<string, { withExec: { stdout: string } }> }).container;
    return { stdout: Object.values(stdout)[0]!.withExec.stdout };
  };

  const fileId = async (name: string): Promise<string> => {
    const r = await query(`{ host { file(path: ${JSON.stringify(name)}) { id } } }`);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return (r.data as { host: { file: { id: string } } }).host.file.id;
  };

  const importAndExec = async (tarball: Buffer, name: string, script: string): Promise<{ stdout?: string; error?: string }> => {
    await fs.writeFile(path.join(work, name), tarball);
    const id = await fileId(name);
    return execIn(`import(source: ${JSON.stringify(id)})`, script);
  };

  /**
   * A test of one crafted archive: whatever `fn` does, nothing outside the container's rootfs
   * changed (compared with just before, so that one escape does not fail every later test),
   * and the engine still serves.
   */
  const hostile = (name: string, fn: () => Promise<void>): void => {
    test(name, async () => {
      const before = await hostState();
      await fn();
      assert.equal(await hostState(), before, "something outside the container's rootfs changed");
      const v = await query("{ version }");
      assert.equal(v.errors, undefined, JSON.stringify(v.errors));
      assert.match(String((v.data as { version: string }).version), /\S/);
    });
  };

  /** A clear error: names the problem, is not a crash report, is not a wall of text. */
  const assertClearError = (message: string | undefined, pattern: RegExp): void => {
    assert.ok(message !== undefined, "the query succeeded but must fail");
    assert.match(message, pattern);
    assert.doesNotMatch(message, /TypeError|ReferenceError|Cannot read propert|undefined|\n\s+at /);
    assert.ok(message.length < 1000, `error message is ${message.length} characters long`);
  };

  const snapshotNamed = (name: string): number => {
    const db = new Database(path.join(engine.root, "metadata.db"), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM snapshots WHERE name = ?").get(name) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  const contentHas = (d: Digest): boolean => existsSync(path.join(engine.root, "content", "blobs", "sha256", digestHex(d)));

  before(async () => {
    registry = await testRegistry();
    work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-hostile-work-"));
    const rand = randomBytes(6).toString("hex");
    const host = path.join("/tmp", `tanto-hostile-${rand}`);
    engine = await startEngine({ registry });
    aim = { host, hostRel: host.slice(1), pwned: `tanto-pwned-${rand}`, engineDir: path.dirname(engine.root), canary: `tanto-canary-${rand}` };

    // The canary tree the archives aim at: a file, a directory with a file, a symlink, an empty directory.
    await fs.mkdir(path.join(host, "dir"), { recursive: true, mode: 0o755 });
    await fs.mkdir(path.join(host, "empty"), { mode: 0o755 });
    await fs.writeFile(path.join(host, "target"), "canary target\n", { mode: 0o644 });
    await fs.writeFile(path.join(host, "dir", "keep"), "canary keep\n", { mode: 0o600 });
    await fs.symlink("target", path.join(host, "link"));
    await fs.writeFile(path.join(aim.engineDir, aim.canary), "engine canary\n");
    for (const p of [path.join(host, "dir", "keep"), path.join(host, "target"), path.join(host, "dir"), path.join(host, "empty"), host]) {
      await fs.utimes(p, new Date("2001-01-01T00:00:00Z"), new Date("2001-01-01T00:00:00Z"));
    }

    base = await busyboxLayer();
    const s = spawn(CLI, ["session", "--workdir", work], { env: engine.env, stdio: ["pipe", "pipe", "pipe"] });
    session = s;
    let stderr = "";
    s.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      s.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      s.once("exit", (code) => reject(new Error(`tanto session exited with ${code}: ${stderr}`)));
    });
    const { port, session_token: token } = JSON.parse(line) as { port: number; session_token: string };
    endpoint = { url: `http://127.0.0.1:${port}/query`, auth: `Basic ${Buffer.from(`${token}:`).toString("base64")}` };
  });

  after(async () => {
    if (session && session.exitCode === null) {
      const exited = new Promise((r) => session!.once("exit", r));
      session.stdin!.end();
      await exited;
    }
    await engine?.destroy();
    if (aim) await fs.rm(aim.host, { recursive: true, force: true });
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const slug = (name: string): string => createHash("sha256").update(name).digest("hex").slice(0, 12);

  for (const c of LAYER_CASES) {
    hostile(`layer: ${c.name}`, async () => {
      const layers = await craftLayers(c, aim);
      const [image] = await pushImage(registry, [`hostile-${slug(c.name)}:layer`], [base, ...layers.map((tar) => ({ tar, compression: "gzip" as const }))]);
      const check = typeof c.expect === "function" ? c.expect(aim) : undefined;
      const r = await execIn(`from(address: ${JSON.stringify(image!.ref)})`, check?.script ?? "true");
      if (check) {
        assert.equal(r.error, undefined);
        assert.equal(r.stdout, check.stdout);
      } else {
        assertClearError(r.error, (c.expect as { error: RegExp }).error);
      }
    });

    hostile(`import (${c.importAs === "oci" ? "OCI layout" : "docker save"}): ${c.name}`, async () => {
      const layers = [base.tar, ...(await craftLayers(c, aim))];
      const tarball = c.importAs === "oci" ? await ociLayout(layers) : await dockerSave(layers);
      const check = typeof c.expect === "function" ? c.expect(aim) : undefined;
      const r = await importAndExec(tarball, `${slug(c.name)}.tar`, check?.script ?? "true");
      if (check) {
        assert.equal(r.error, undefined);
        assert.equal(r.stdout, check.stdout);
      } else {
        assertClearError(r.error, (c.expect as { error: RegExp }).error);
      }
    });

    // The first layer of an image is unpacked where it lies (whiteouts in overlay's own format), not through a mount.
    hostile(`layer, with no base below: ${c.name}`, async () => {
      const layers = await craftLayers(c, aim);
      const [image] = await pushImage(
        registry,
        [`hostile-${slug(c.name)}:alone`],
        layers.map((tar) => ({ tar, compression: "gzip" as const })),
      );
      const r = await query(`{ container { from(address: ${JSON.stringify(image!.ref)}) { rootfs { entries } } } }`);
      const error = c.alone?.error ?? (typeof c.expect === "function" ? undefined : c.expect.error);
      if (error) assertClearError(r.errors?.map((e) => e.message).join("\n"), error);
      else assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    });
  }

  // ---------------------------------------------------------------- the archive itself is hostile

  hostile("import (OCI layout): an index and entries that point outside blobs/ are refused", async () => {
    const good = await ociLayout([base.tar]);
    // A valid layout, then entries named out of it and an index.json whose digest is a path.
    const entries = (await tarEntries(good)).filter((e) => e.name !== "index.json");
    const hostile = await packTar([
      ...entries,
      file(`blobs/sha256/${up(2)}x`, "outside blobs\n"),
      file(`blobs/sha256/${up(6)}${aim.hostRel}/target`, "pwned\n"),
      file(`${up(6)}${aim.hostRel}/dir/keep`, "pwned\n"),
      symlink(`blobs/sha256/${"0".repeat(64)}`, "/etc/passwd"),
      file(
        "index.json",
        JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, digest: `sha256:${up(4)}etc/passwd`, size: 10 }] }),
      ),
    ]);
    const r = await importAndExec(hostile, "index-outside.tar", "true");
    assertClearError(r.error, /index\.json.*digest.*sha256:<64 hex>/);
    // index.json and manifest.json themselves as links out of the archive are not followed.
    const linked = await packTar([
      symlink("index.json", "/etc/passwd"),
      hardlink("manifest.json", `${up(4)}etc/passwd`),
      symlink("oci-layout", `${aim.host}/target`),
    ]);
    const r2 = await importAndExec(linked, "index-link.tar", "true");
    assertClearError(r2.error, /not an image archive: no index\.json .* it holds "index\.json", "manifest\.json", "oci-layout"/);
  });

  hostile("import (OCI layout): a blob that is a symlink to /etc/passwd is not read", async () => {
    // A layer of its own, so that its manifest is new to the engine's content store.
    const good = await ociLayout([base.tar, await packTar([file("unique", randomBytes(8).toString("hex"))])]);
    const manifestDigest = (JSON.parse(await tarEntry(good, "index.json")) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest;
    const hex = manifestDigest.slice("sha256:".length);
    // The manifest's blob is swapped for a link out of the archive.
    const hostile = await packTar([
      ...(await tarEntries(good)).filter((e) => e.name !== `blobs/sha256/${hex}`),
      symlink(`blobs/sha256/${hex}`, `${up(4)}etc/passwd`),
    ]);
    const r = await importAndExec(hostile, "blob-symlink.tar", "true");
    assertClearError(r.error, new RegExp(`blob ${manifestDigest} .* is not in the archive`));
  });

  hostile("import (docker save): manifest.json Layers naming '../../etc/passwd' are refused", async () => {
    const config = imageConfig([sha256(base.tar)]);
    const hostile = await packTar([
      file("config.json", config),
      file("manifest.json", JSON.stringify([{ Config: "config.json", RepoTags: [], Layers: ["../../etc/passwd"] }])),
    ]);
    const r = await importAndExec(hostile, "layers-passwd.tar", "true");
    assertClearError(r.error, /layer "\.\.\/\.\.\/etc\/passwd" is not in the archive/);
  });

  hostile("import (docker save): a Config or layer path leading out of the archive, directly or by a symlink, is refused", async () => {
    const hostile = await packTar([
      symlink("layer.tar", `${up(6)}${aim.hostRel}/target`),
      symlink("config.json", "/etc/passwd"),
      file("manifest.json", JSON.stringify([{ Config: `${up(3)}etc/passwd`, RepoTags: [], Layers: ["layer.tar"] }])),
    ]);
    const r = await importAndExec(hostile, "config-outside.tar", "true");
    assertClearError(r.error, /config "\.\.\/\.\.\/\.\.\/etc\/passwd" is not in the archive/);
    const viaLink = await packTar([
      symlink("layer.tar", `${up(6)}${aim.hostRel}/target`),
      symlink("config.json", "/etc/passwd"),
      file("manifest.json", JSON.stringify([{ Config: "config.json", RepoTags: [], Layers: ["layer.tar"] }])),
    ]);
    const r2 = await importAndExec(viaLink, "config-link.tar", "true");
    assertClearError(r2.error, /config "config\.json" is not in the archive/);
  });

  hostile("import: a plain tar that is not an image is refused, naming what it holds", async () => {
    const plain = await packTar([file("README.md", "hello\n"), dir("src/"), file("src/main.c", "int main;\n")]);
    const r = await importAndExec(plain, "plain.tar", "true");
    assertClearError(r.error, /not an image archive: no index\.json .* or manifest\.json .*; it holds "README\.md", "src\/", "src\/main\.c"/);
  });

  hostile("import: gzip garbage is refused as not a tar", async () => {
    const garbage = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]), randomBytes(4096)]);
    const r = await importAndExec(garbage, "garbage.tar.gz", "true");
    assertClearError(r.error, /not an image archive: cannot read it as a tar: .*gzip/);
    const noise = await importAndExec(randomBytes(8192), "noise.tar", "true");
    assertClearError(noise.error, /not an image archive/);
  });

  hostile("import (OCI layout): a blob whose content does not match its digest is refused and not stored", async () => {
    const marker = await packTar([file(`${up(4)}${aim.hostRel}/target`, "tampered\n")]);
    const good = await ociLayout([base.tar, marker]);
    const layerDigest = sha256(gzipSync(marker));
    const tampered = gzipSync(await packTar([file(`${up(4)}${aim.hostRel}/target`, "TAMPERED\n")]));
    const entries = (await tarEntries(good)).map((e) =>
      e.name === `blobs/sha256/${digestHex(layerDigest)}` ? { ...e, data: tampered, size: tampered.length } : e,
    );
    const r = await importAndExec(await packTar(entries), "tampered.tar", "true");
    assertClearError(r.error, new RegExp(`blobs/sha256/${digestHex(layerDigest)}: digest mismatch`));
    assert.equal(contentHas(layerDigest), false, "the claimed digest is not in the content store");
    assert.equal(contentHas(sha256(tampered)), false, "the tampered bytes are not in the content store");
    assert.deepEqual(await fs.readdir(path.join(engine.root, "content", "ingest")), [], "no half-written blob is left");
  });

  hostile("import (docker save): a layer that does not match the config's diff_id is refused and not unpacked", async () => {
    const marker = await packTar([file(`${aim.host}/target`, "wrong diff id\n")]);
    const lie = sha256("not this layer");
    const tarball = await dockerSave([base.tar, marker], { diffIds: [sha256(base.tar), lie] });
    const r = await importAndExec(tarball, "diffid.tar", `cat ${aim.host}/target`);
    assertClearError(r.error, new RegExp(`unpacks to ${sha256(marker)}, but the image config says ${lie}`));
    assert.equal(snapshotNamed(`layer/${digestHex(sha256(`${sha256(base.tar)} ${lie}`))}`), 0, "no snapshot of the lying layer");
  });

  hostile("layer: a layer that does not match its descriptor (size) or the config's diff_id is refused and not stored", async () => {
    const marker = await packTar([file(`${aim.host}/target`, "lying layer\n")]);
    const markerGz = gzipSync(marker);
    const baseGz = gzipSync(base.tar);
    const store = await LocalContentStore.open(path.join(work, "push-content"));
    const client = new RegistryClient({ hosts: { [registry]: { http: true } } });
    try {
      const push = async (name: string, markerSize: number, diffIds: Digest[]): Promise<string> => {
        const ref = parseReference(`${registry}/hostile-lies/${name}`);
        const layers = [
          { mediaType: MediaType.ociLayerGzip, digest: await store.put(baseGz), size: baseGz.length },
          { mediaType: MediaType.ociLayerGzip, digest: await store.put(markerGz), size: markerGz.length },
        ];
        for (const d of layers) await client.pushBlob(ref, d, store);
        const configBytes = imageConfig(diffIds);
        const config = { mediaType: MediaType.ociConfig, digest: await store.put(configBytes), size: configBytes.length };
        await client.pushBlob(ref, config, store);
        const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layers[0]!, { ...layers[1]!, size: markerSize }] };
        await client.pushManifest(ref, Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest);
        return `${registry}/hostile-lies/${name}`;
      };
      const markerDigest = sha256(markerGz);
      const short = await push(`size-${randomBytes(3).toString("hex")}:1`, markerGz.length - 7, [sha256(base.tar), sha256(marker)]);
      const r = await execIn(`from(address: ${JSON.stringify(short)})`, `cat ${aim.host}/target`);
      assertClearError(r.error, new RegExp(`blob ${markerDigest} .*larger than the expected ${markerGz.length - 7} bytes`));
      assert.equal(contentHas(markerDigest), false, "the layer with the wrong size is not in the content store");

      const lie = sha256(`not this layer ${randomBytes(4).toString("hex")}`);
      const lying = await push(`diffid-${randomBytes(3).toString("hex")}:1`, markerGz.length, [sha256(base.tar), lie]);
      const r2 = await execIn(`from(address: ${JSON.stringify(lying)})`, `cat ${aim.host}/target`);
      assertClearError(r2.error, new RegExp(`unpacks to ${sha256(marker)}, but the image config says ${lie}`));
      assert.equal(snapshotNamed(`layer/${digestHex(sha256(`${sha256(base.tar)} ${lie}`))}`), 0, "no snapshot of the lying layer");
    } finally {
      client.close();
    }
  });
});

// ---------------------------------------------------------------- reading tars back

async function tarEntries(bytes: Buffer): Promise<Entry[]> {
  const out: Entry[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const e of extract) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.push({ ...e.header, data: Buffer.concat(chunks) });
    }
  })();
  extract.end(bytes);
  await done;
  return out;
}

async function tarEntry(bytes: Buffer, name: string): Promise<string> {
  const e = (await tarEntries(bytes)).find((x) => x.name === name);
  if (!e) throw new Error(`no ${name} in the tar`);
  return Buffer.from(e.data ?? "").toString("utf8");
}
