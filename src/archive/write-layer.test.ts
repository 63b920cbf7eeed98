/**
 * packDirectory (directory → deterministic tar, overlay markers → OCI
 * whiteouts), its round trip through applyLayer, and the decompressors.
 */

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lchown, link, lstat, lutimes, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import tar, { type Header } from "tar-stream";
import { CancelledError, InvalidArgumentError } from "../errors.js";
import { applyLayer } from "./apply-layer.js";
import { compressGzip } from "./compressors.js";
import { decompressStream, detectCompression } from "./decompress.js";
import { packDirectory } from "./write-layer.js";

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tanto-${prefix}-`));
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface ListedEntry {
  header: Header;
  data: Buffer;
}

async function listTar(bytes: Buffer): Promise<ListedEntry[]> {
  const extract = tar.extract();
  const out: ListedEntry[] = [];
  Readable.from([bytes]).pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.push({ header: entry.header, data: Buffer.concat(chunks) });
  }
  return out;
}

function setXattr(path: string, name: string, value: string): void {
  execFileSync("setfattr", ["-h", "-n", name, "-v", value, path]);
}

function getXattr(path: string, name: string): string | undefined {
  try {
    return execFileSync("getfattr", ["-h", "--only-values", "-n", name, path], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  } catch {
    return undefined;
  }
}

/**
 * Everything applyLayer restores, per path: type, mode, owner, mtime (whole
 * seconds, as tar keeps them), content, link target, device, opaque marker,
 * and which paths share an inode. The root's own metadata is not in a layer.
 */
async function describeTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const inodes = new Map<number, string>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const p = join(dir, r);
      const st = await lstat(p);
      const isWhiteout = st.isCharacterDevice() && st.rdev === 0;
      let desc = isWhiteout ? "whiteout" : `${st.mode.toString(8)} ${st.uid}:${st.gid} ${Math.floor(st.mtimeMs / 1000)}`;
      if (st.isFile()) {
        desc += ` ${createHash("sha256")
          .update(await readFile(p))
          .digest("hex")}`;
        const first = inodes.get(st.ino);
        if (first !== undefined) desc += ` =${first}`;
        else inodes.set(st.ino, r);
      }
      if (st.isSymbolicLink()) desc += ` -> ${await readlink(p)}`;
      if ((st.isCharacterDevice() || st.isBlockDevice()) && !isWhiteout) desc += ` dev ${st.rdev}`;
      if (st.isDirectory()) desc += ` opaque=${getXattr(p, "trusted.overlay.opaque") ?? "-"}`;
      out.set(r, desc);
      if (st.isDirectory()) await walk(r);
    }
  }
  out.set(".", `opaque=${getXattr(dir, "trusted.overlay.opaque") ?? "-"}`);
  await walk("");
  return out;
}

/** An overlay upperdir in miniature: every kind of entry, plus whiteouts and opaque directories. */
async function buildUpperdir(dir: string): Promise<void> {
  const t = new Date("2022-05-06T07:08:09Z");
  await mkdir(join(dir, "usr/bin"), { recursive: true });
  await writeFile(join(dir, "usr/bin/tool"), "#!/bin/sh\necho hi\n");
  await lchown(join(dir, "usr/bin/tool"), 1000, 1001);
  await chmod(join(dir, "usr/bin/tool"), 0o4755);
  await link(join(dir, "usr/bin/tool"), join(dir, "usr/bin/tool-alias"));
  await link(join(dir, "usr/bin/tool"), join(dir, "a-first-name"));
  await symlink("tool", join(dir, "usr/bin/sym"));
  await symlink("/absolute/dangling", join(dir, "dangling"));
  await writeFile(join(dir, "big"), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  await writeFile(join(dir, "empty"), "");
  await writeFile(join(dir, `${"n".repeat(130)}`), "long name");
  await writeFile(join(dir, "ünïcödé"), "utf8 name");
  await mkdir(join(dir, "var/cache"), { recursive: true });
  await writeFile(join(dir, "var/cache/fresh"), "fresh");
  setXattr(join(dir, "var/cache"), "trusted.overlay.opaque", "y");
  await mkdir(join(dir, "weird\nname"));
  setXattr(join(dir, "weird\nname"), "trusted.overlay.opaque", "y");
  execFileSync("mknod", [join(dir, "var/deleted"), "c", "0", "0"]);
  execFileSync("mknod", [join(dir, ".wh-lookalike"), "c", "0", "0"]);
  execFileSync("mknod", ["-m", "0666", join(dir, "null"), "c", "1", "3"]);
  execFileSync("mknod", ["-m", "0600", join(dir, "fifo"), "p"]);
  await mkdir(join(dir, "locked"), { mode: 0o700 });
  await writeFile(join(dir, "locked/inside"), "x");
  await chmod(join(dir, "locked"), 0o500);
  for (const p of ["usr/bin/tool", "usr/bin", "usr", "var/cache", "var", "big", "locked"]) await utimes(join(dir, p), t, t);
  await lutimes(join(dir, "usr/bin/sym"), t, t);
}

// ---------------------------------------------------------------- packDirectory

test("packDirectory turns overlay markers into OCI whiteouts and shared inodes into hardlinks", async () => {
  const dir = await tempDir("pack");
  try {
    await buildUpperdir(dir);
    const entries = await listTar(await collect(packDirectory(dir)));
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    const names = entries.map((e) => e.header.name);

    assert.ok(byName.has("var/.wh.deleted"), "whiteout device → .wh. entry");
    assert.ok(!names.includes("var/deleted"));
    assert.ok(byName.has(".wh..wh-lookalike"));
    assert.ok(byName.has("var/cache/.wh..wh..opq"), "opaque xattr → .wh..wh..opq");
    assert.ok(byName.has("weird\nname/.wh..wh..opq"));
    assert.ok(!names.includes("usr/.wh..wh..opq"));
    assert.ok(names.indexOf("var/cache/") < names.indexOf("var/cache/.wh..wh..opq"));
    assert.ok(names.indexOf("var/cache/.wh..wh..opq") < names.indexOf("var/cache/fresh"));

    // Hardlinks point at the first name in byte order.
    assert.equal(byName.get("a-first-name")?.header.type, "file");
    assert.equal(byName.get("usr/bin/tool")?.header.type, "link");
    assert.equal(byName.get("usr/bin/tool")?.header.linkname, "a-first-name");
    assert.equal(byName.get("usr/bin/tool-alias")?.header.linkname, "a-first-name");

    const tool = byName.get("a-first-name")?.header;
    assert.equal(tool?.mode, 0o4755);
    assert.equal(tool?.uid, 1000);
    assert.equal(tool?.gid, 1001);
    assert.equal(byName.get("usr/bin/sym")?.header.linkname, "tool");
    assert.equal(byName.get("null")?.header.type, "character-device");
    assert.equal(byName.get("null")?.header.devmajor, 1);
    assert.equal(byName.get("null")?.header.devminor, 3);
    assert.equal(byName.get("fifo")?.header.type, "fifo");
    assert.equal(byName.get("usr/")?.header.type, "directory");
    assert.equal(byName.get("big")?.data.length, 3 * 1024 * 1024 + 17);
    assert.ok(byName.has("n".repeat(130)));
    assert.ok(byName.has("ünïcödé"));
    assert.deepEqual(
      names,
      [...names].sort((a, b) => compareTarOrder(a, b)),
      "names come in walk order",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Depth-first order with byte-sorted siblings, the order packDirectory promises. */
function compareTarOrder(a: string, b: string): number {
  const pa = a.replace(/\/$/, "").split("/");
  const pb = b.replace(/\/$/, "").split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    // The opaque marker is emitted right after its directory, before the children.
    if (x === ".wh..wh..opq") return -1;
    if (y === ".wh..wh..opq") return 1;
    // Whiteouts sort by the name they hide.
    const kx = x.startsWith(".wh.") ? x.slice(4) : x;
    const ky = y.startsWith(".wh.") ? y.slice(4) : y;
    return Buffer.compare(Buffer.from(kx), Buffer.from(ky));
  }
  return pa.length - pb.length;
}

test("packDirectory is deterministic", async () => {
  const dir = await tempDir("pack");
  try {
    await buildUpperdir(dir);
    const a = await collect(packDirectory(dir));
    const b = await collect(packDirectory(dir));
    assert.ok(a.equals(b));
    // Equal gzip bytes too: no timestamp in the gzip header.
    const ga = await collect(Readable.from([a]).pipe(compressGzip()));
    const gb = await collect(Readable.from([b]).pipe(compressGzip()));
    assert.ok(ga.equals(gb));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("round trip: pack an applied layer, apply it again, get the same tree and the same tar", async () => {
  const src = await tempDir("rt-src");
  const a = await tempDir("rt-a");
  const b = await tempDir("rt-b");
  try {
    await buildUpperdir(src);
    const first = await collect(packDirectory(src));
    await applyLayer(Readable.from([first]), a);
    const second = await collect(packDirectory(a));
    await applyLayer(Readable.from([second]), b);
    const third = await collect(packDirectory(b));

    const treeSrc = await describeTree(src);
    assert.deepEqual(await describeTree(a), treeSrc);
    assert.deepEqual(await describeTree(b), treeSrc);
    assert.ok(first.equals(second), "applying and packing again gives the same bytes");
    assert.ok(second.equals(third));
  } finally {
    for (const d of [src, a, b]) await rm(d, { recursive: true, force: true });
  }
});

test("round trip through gzip and decompressStream('auto')", async () => {
  const src = await tempDir("rt-src");
  const dst = await tempDir("rt-dst");
  try {
    await buildUpperdir(src);
    const gz = await collect(packDirectory(src).pipe(compressGzip()));
    assert.equal(detectCompression(gz), "gzip");
    const { size } = await applyLayer(Readable.from([gz]).pipe(decompressStream("auto")), dst);
    assert.equal(size, (await collect(packDirectory(src))).length);
    assert.deepEqual(await describeTree(dst), await describeTree(src));
  } finally {
    for (const d of [src, dst]) await rm(d, { recursive: true, force: true });
  }
});

test("packDirectory of an empty directory is an empty tar", async () => {
  const dir = await tempDir("pack");
  try {
    const bytes = await collect(packDirectory(dir));
    assert.deepEqual(await listTar(bytes), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("packDirectory reports a missing directory and honours its signal", async () => {
  await assert.rejects(collect(packDirectory("/nonexistent/tanto/dir")), /nonexistent/);
  const dir = await tempDir("pack");
  try {
    await buildUpperdir(dir);
    const controller = new AbortController();
    const stream = packDirectory(dir, { signal: controller.signal });
    controller.abort();
    await assert.rejects(collect(stream), CancelledError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("destroying the packed stream early stops the walk", async () => {
  const dir = await tempDir("pack");
  try {
    await buildUpperdir(dir);
    const stream = packDirectory(dir);
    for await (const _ of stream) break;
    assert.ok(stream.destroyed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- decompression

const sample = Buffer.from("tanto layer bytes ".repeat(10_000));

async function decompress(kind: Parameters<typeof decompressStream>[0], input: Buffer, chunkSize = 1000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkSize) chunks.push(input.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), decompressStream(kind), async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

const hasZstd = spawnSync("zstd", ["--version"]).status === 0;

function zstdCompress(data: Buffer): Buffer {
  return execFileSync("zstd", ["-q", "-c", "-3"], { input: data, maxBuffer: 1 << 28 });
}

test("detectCompression sniffs magic bytes", () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0])), "gzip");
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), "zstd");
  assert.equal(detectCompression(Buffer.from("ustar")), "none");
  assert.equal(detectCompression(Buffer.from([0x1f])), "none");
});

test("decompress gzip, explicitly and sniffed, including multi-member gzip", async () => {
  const gz = gzipSync(sample);
  assert.ok((await decompress("gzip", gz)).equals(sample));
  assert.ok((await decompress("auto", gz, 1)).equals(sample), "one byte at a time through the sniffer");
  const multi = Buffer.concat([gzipSync(sample.subarray(0, 5000)), gzipSync(sample.subarray(5000))]);
  assert.ok((await decompress("auto", multi)).equals(sample));
});

test("decompress zstd, explicitly and sniffed, including several frames", { skip: !hasZstd && "zstd CLI not installed" }, async () => {
  const zst = zstdCompress(sample);
  assert.ok((await decompress("zstd", zst)).equals(sample));
  assert.ok((await decompress("auto", zst, 3)).equals(sample));
  const frames = Buffer.concat([zstdCompress(sample.subarray(0, 7000)), zstdCompress(sample.subarray(7000))]);
  assert.ok((await decompress("auto", frames)).equals(sample));
  const big = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  assert.ok((await decompress("auto", zstdCompress(big), 65536)).equals(big));
});

test("plain input passes through 'none' and 'auto', even when shorter than a magic number", async () => {
  assert.ok((await decompress("none", sample)).equals(sample));
  assert.ok((await decompress("auto", sample)).equals(sample));
  assert.ok((await decompress("auto", Buffer.from("ab"))).equals(Buffer.from("ab")));
  assert.equal((await decompress("auto", Buffer.alloc(0))).length, 0);
});

test("corrupt compressed input is an InvalidArgumentError", async () => {
  const gz = gzipSync(sample);
  const badGz = Buffer.concat([gz.subarray(0, 20), Buffer.alloc(200, 0xff)]);
  await assert.rejects(decompress("gzip", badGz), InvalidArgumentError);
  await assert.rejects(decompress("auto", badGz), InvalidArgumentError);
  const badZst = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  await assert.rejects(decompress("zstd", badZst), InvalidArgumentError);
  await assert.rejects(decompress("auto", badZst), InvalidArgumentError);
});

test("owners above the ustar range travel in PAX records and come back on apply", async () => {
  const src = await tempDir("pax-src");
  const dst = await tempDir("pax-dst");
  try {
    await writeFile(join(src, "big-owner"), "x");
    await lchown(join(src, "big-owner"), 3_000_000, 4_000_000);
    await chmod(join(src, "big-owner"), 0o4755);
    const bytes = await collect(packDirectory(src));
    const entry = (await listTar(bytes)).find((e) => e.header.name === "big-owner");
    const pax = entry?.header.pax as Record<string, string> | undefined;
    assert.deepEqual([pax?.["uid"], pax?.["gid"]], ["3000000", "4000000"]);
    await applyLayer(Readable.from([bytes]), dst);
    const st = await lstat(join(dst, "big-owner"));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [3_000_000, 4_000_000, 0o4755]);
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dst, { recursive: true, force: true });
  }
});
