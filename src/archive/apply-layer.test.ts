/**
 * applyLayer against real tars (built in memory) and a real filesystem. Root
 * is needed for chown and mknod. Every escape test runs in a sandbox: the
 * target sits inside a temp parent whose other contents, and /etc, must be
 * unchanged afterwards.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import tar, { type Header } from "tar-stream";
import { CancelledError, InvalidArgumentError } from "../errors.js";
import { type ApplyLayerOptions, applyLayer } from "./apply-layer.js";
import { cleanEntryPath } from "./layer-writer.js";

type TarEntry = Partial<Header> & Pick<Header, "name"> & { data?: string | Buffer };

function packEntries(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(c as Buffer));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  for (const { data, ...header } of entries) {
    const mtime = header.mtime ?? new Date("2020-01-02T03:04:05Z");
    pack.entry({ ...header, mtime }, data === undefined ? Buffer.alloc(0) : Buffer.from(data));
  }
  pack.finalize();
  return done;
}

async function apply(dir: string, entries: readonly TarEntry[], opts: ApplyLayerOptions = {}) {
  const bytes = await packEntries(entries);
  const result = await applyLayer(Readable.from([bytes]), dir, opts);
  return { ...result, bytes };
}

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tanto-${prefix}-`));
}

function getXattr(path: string, name: string): string | undefined {
  try {
    return execFileSync("getfattr", ["-h", "--only-values", "-n", name, path], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  } catch {
    return undefined;
  }
}

/** Type, metadata and content of everything below `dir`, except the names in `skip`. */
async function snapshotTree(dir: string, skip: ReadonlySet<string> = new Set()): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      if (skip.has(r)) continue;
      const p = join(dir, r);
      const st = await lstat(p);
      let desc = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.nlink}`;
      if (st.isFile())
        desc += ` ${createHash("sha256")
          .update(await readFile(p))
          .digest("hex")}`;
      if (st.isSymbolicLink()) desc += ` -> ${await readlink(p)}`;
      out.set(r, desc);
      if (st.isDirectory()) await walk(r);
    }
  }
  const root = await lstat(dir);
  out.set(".", `${root.mode.toString(8)} ${root.uid}:${root.gid} ${root.mtimeMs}`);
  await walk("");
  return out;
}

/** /etc as far as a layer escape could touch it: its listing and the metadata of its top-level entries. */
async function snapshotEtc(): Promise<string> {
  const parts: string[] = [];
  const etc = await lstat("/etc");
  parts.push(`${etc.mode} ${etc.mtimeMs} ${etc.nlink}`);
  for (const name of (await readdir("/etc")).sort()) {
    const st = await lstat(join("/etc", name));
    parts.push(`${name} ${st.mode} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.nlink} ${st.size}`);
  }
  parts.push(createHash("sha256").update(readFileSync("/etc/passwd")).digest("hex"));
  return parts.join("\n");
}

/**
 * Runs `fn` with a fresh target inside a parent that also holds a decoy file
 * and directory, then asserts the parent (minus the target) and /etc are
 * exactly as they were.
 */
async function sandbox(fn: (target: string, parent: string) => Promise<void>): Promise<void> {
  const parent = await tempDir("sandbox");
  const target = join(parent, "target");
  await mkdir(target);
  await writeFile(join(parent, "victim"), "precious");
  await mkdir(join(parent, "decoy"));
  await writeFile(join(parent, "decoy", "keep"), "keep");
  const before = await snapshotTree(parent, new Set(["target"]));
  const etcBefore = await snapshotEtc();
  try {
    await fn(target, parent);
    assert.deepEqual(await snapshotTree(parent, new Set(["target"])), before, "the target's parent changed");
    assert.equal(await snapshotEtc(), etcBefore, "/etc changed");
    assert.equal(existsSync("/etc/tanto-pwned"), false);
    assert.equal(existsSync("/tanto-pwned"), false);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

const isInvalid = (err: unknown): boolean => err instanceof InvalidArgumentError;

// ---------------------------------------------------------------- paths

test("cleanEntryPath drops '/', '.' and clamps '..' at the root", () => {
  assert.deepEqual(cleanEntryPath("./a/b/"), ["a", "b"]);
  assert.deepEqual(cleanEntryPath("/etc/passwd"), ["etc", "passwd"]);
  assert.deepEqual(cleanEntryPath("../../etc/x"), ["etc", "x"]);
  assert.deepEqual(cleanEntryPath("a/../../b"), ["b"]);
  assert.deepEqual(cleanEntryPath("a//./b/.."), ["a"]);
  assert.deepEqual(cleanEntryPath("./"), []);
});

// ---------------------------------------------------------------- normal entries

test("files, directories, symlinks and hardlinks with modes, owners and mtimes", async () => {
  const dir = await tempDir("apply");
  try {
    const dirTime = new Date("2001-02-03T04:05:06Z");
    const fileTime = new Date("2011-12-13T14:15:16Z");
    const { size, bytes } = await apply(dir, [
      { name: "./", type: "directory", mode: 0o755, mtime: dirTime },
      { name: "usr/", type: "directory", mode: 0o750, uid: 10, gid: 20, mtime: dirTime },
      { name: "usr/bin/", type: "directory", mode: 0o755, mtime: dirTime },
      { name: "usr/bin/tool", type: "file", mode: 0o4755, uid: 1000, gid: 1000, mtime: fileTime, data: "#!/bin/sh\n" },
      { name: "usr/bin/sg", type: "file", mode: 0o2711, uid: 0, gid: 50, data: "x" },
      { name: "usr/bin/alias", type: "link", linkname: "usr/bin/tool" },
      { name: "usr/bin/sym", type: "symlink", linkname: "tool", uid: 7, gid: 8, mtime: fileTime },
      { name: "usr/bin/dangling", type: "symlink", linkname: "/nowhere/at/all" },
      { name: "private/", type: "directory", mode: 0o500, mtime: dirTime },
      { name: "private/secret", type: "file", mode: 0o400, data: "s" },
      { name: "sticky/", type: "directory", mode: 0o1777 },
      { name: "implicit/parent/file", type: "file", mode: 0o644, data: "no parent entries" },
    ]);
    assert.equal(size, bytes.length);

    const tool = await lstat(join(dir, "usr/bin/tool"));
    assert.equal(tool.mode & 0o7777, 0o4755, "setuid survives chown");
    assert.equal(tool.uid, 1000);
    assert.equal(tool.gid, 1000);
    assert.equal(tool.mtime.getTime(), fileTime.getTime());
    assert.equal(tool.nlink, 2);
    assert.equal(await readFile(join(dir, "usr/bin/tool"), "utf8"), "#!/bin/sh\n");

    const sg = await lstat(join(dir, "usr/bin/sg"));
    assert.equal(sg.mode & 0o7777, 0o2711);
    assert.equal(sg.gid, 50);

    const alias = await lstat(join(dir, "usr/bin/alias"));
    assert.equal(alias.ino, tool.ino);

    const sym = await lstat(join(dir, "usr/bin/sym"));
    assert.ok(sym.isSymbolicLink());
    assert.equal(await readlink(join(dir, "usr/bin/sym")), "tool");
    assert.equal(sym.uid, 7);
    assert.equal(sym.mtime.getTime(), fileTime.getTime());
    assert.equal(await readlink(join(dir, "usr/bin/dangling")), "/nowhere/at/all");

    const usr = await lstat(join(dir, "usr"));
    assert.equal(usr.mode & 0o7777, 0o750);
    assert.equal(usr.uid, 10);
    assert.equal(usr.gid, 20);
    assert.equal(usr.mtime.getTime(), dirTime.getTime(), "directory mtime is set after its contents");
    assert.equal((await lstat(join(dir, "usr/bin"))).mtime.getTime(), dirTime.getTime());
    assert.equal((await lstat(join(dir, "private"))).mode & 0o7777, 0o500);
    assert.equal(await readFile(join(dir, "private/secret"), "utf8"), "s");
    assert.equal((await lstat(join(dir, "sticky"))).mode & 0o7777, 0o1777);
    assert.equal((await lstat(dir)).mtime.getTime(), dirTime.getTime(), "the root entry applies to the target");
    assert.equal(await readFile(join(dir, "implicit/parent/file"), "utf8"), "no parent entries");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("devices and fifos are created with mknod", async () => {
  const dir = await tempDir("apply");
  try {
    await apply(dir, [
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "dev/loop0", type: "block-device", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
      { name: "run/pipe", type: "fifo", mode: 0o620, uid: 5 },
    ]);
    const nul = await lstat(join(dir, "dev/null"));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.equal(nul.mode & 0o7777, 0o666);
    const loop = await lstat(join(dir, "dev/loop0"));
    assert.ok(loop.isBlockDevice());
    assert.equal(loop.rdev, 7 << 8);
    assert.equal(loop.gid, 6);
    const pipe = await lstat(join(dir, "run/pipe"));
    assert.ok(pipe.isFIFO());
    assert.equal(pipe.mode & 0o7777, 0o620);
    assert.equal(pipe.uid, 5);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("long names and link names (PAX headers)", async () => {
  const dir = await tempDir("apply");
  try {
    const long = `${"d".repeat(120)}/${"f".repeat(150)}`;
    await apply(dir, [
      { name: long, type: "file", data: "deep" },
      { name: "short-link", type: "symlink", linkname: long },
      { name: "hard", type: "link", linkname: long },
    ]);
    assert.equal(await readFile(join(dir, long), "utf8"), "deep");
    assert.equal(await readlink(join(dir, "short-link")), long);
    assert.equal((await lstat(join(dir, "hard"))).ino, (await lstat(join(dir, long))).ino);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("later entries override earlier ones", async () => {
  const dir = await tempDir("apply");
  try {
    await apply(dir, [
      { name: "f", type: "file", data: "first" },
      { name: "f", type: "file", data: "second", mode: 0o600 },
      { name: "s", type: "file", data: "file" },
      { name: "s", type: "symlink", linkname: "f" },
      { name: "d/", type: "directory" },
      { name: "d/child", type: "file", data: "gone" },
      { name: "d", type: "file", data: "now a file" },
      { name: "x", type: "symlink", linkname: "somewhere" },
      { name: "x/", type: "directory", mode: 0o711 },
      { name: "keep/", type: "directory", mode: 0o700 },
      { name: "keep/a", type: "file", data: "a" },
      { name: "keep/", type: "directory", mode: 0o755 },
    ]);
    assert.equal(await readFile(join(dir, "f"), "utf8"), "second");
    assert.equal((await lstat(join(dir, "f"))).mode & 0o7777, 0o600);
    assert.equal(await readlink(join(dir, "s")), "f");
    assert.equal(await readFile(join(dir, "d"), "utf8"), "now a file");
    const x = await lstat(join(dir, "x"));
    assert.ok(x.isDirectory());
    assert.equal(x.mode & 0o7777, 0o711);
    assert.equal(await readFile(join(dir, "keep/a"), "utf8"), "a", "directory over directory keeps contents");
    assert.equal((await lstat(join(dir, "keep"))).mode & 0o7777, 0o755);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- whiteouts

test("a whiteout becomes a character device 0/0", async () => {
  const dir = await tempDir("apply");
  try {
    await apply(dir, [
      { name: "etc/", type: "directory" },
      { name: "etc/.wh.motd", type: "file" },
      { name: ".wh.tmp", type: "file" },
    ]);
    for (const p of ["etc/motd", "tmp"]) {
      const st = await lstat(join(dir, p));
      assert.ok(st.isCharacterDevice(), `${p} is a char device`);
      assert.equal(st.rdev, 0);
    }
    assert.equal(existsSync(join(dir, "etc/.wh.motd")), false);
    assert.equal(existsSync(join(dir, ".wh.tmp")), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a whiteout does not hide a file of the same layer", async () => {
  const dir = await tempDir("apply");
  try {
    await apply(dir, [
      { name: "a", type: "file", data: "mine" },
      { name: ".wh.a", type: "file" },
    ]);
    assert.equal(await readFile(join(dir, "a"), "utf8"), "mine");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an opaque marker sets trusted.overlay.opaque=y on its directory", async () => {
  const dir = await tempDir("apply");
  try {
    await apply(dir, [
      { name: "var/", type: "directory" },
      { name: "var/cache/", type: "directory", mode: 0o755 },
      { name: "var/cache/.wh..wh..opq", type: "file" },
      { name: "var/cache/new", type: "file", data: "n" },
      { name: "implicit/.wh..wh..opq", type: "file" },
    ]);
    assert.equal(getXattr(join(dir, "var/cache"), "trusted.overlay.opaque"), "y");
    assert.equal(getXattr(join(dir, "implicit"), "trusted.overlay.opaque"), "y");
    assert.equal(getXattr(join(dir, "var"), "trusted.overlay.opaque"), undefined);
    assert.equal(await readFile(join(dir, "var/cache/new"), "utf8"), "n");
    assert.equal(existsSync(join(dir, "var/cache/.wh..wh..opq")), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a directory written over a whiteout of the same layer is opaque", async () => {
  const dir = await tempDir("apply");
  try {
    await apply(dir, [
      { name: ".wh.opt", type: "file" },
      { name: "opt/", type: "directory" },
      { name: ".wh.srv", type: "file" },
      { name: "srv/file", type: "file", data: "f" },
    ]);
    assert.ok((await lstat(join(dir, "opt"))).isDirectory());
    assert.equal(getXattr(join(dir, "opt"), "trusted.overlay.opaque"), "y");
    assert.equal(getXattr(join(dir, "srv"), "trusted.overlay.opaque"), "y");
    assert.equal(await readFile(join(dir, "srv/file"), "utf8"), "f");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- malformed input

test("a hardlink to a missing target is an InvalidArgumentError naming the entry", async () => {
  const dir = await tempDir("apply");
  try {
    await assert.rejects(apply(dir, [{ name: "lnk", type: "link", linkname: "missing" }]), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /"lnk"/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a hardlink to a directory or a symlink is refused", async () => {
  const dir = await tempDir("apply");
  try {
    await assert.rejects(
      apply(dir, [
        { name: "d/", type: "directory" },
        { name: "l", type: "link", linkname: "d" },
      ]),
      isInvalid,
    );
    await assert.rejects(
      apply(dir, [
        { name: "s", type: "symlink", linkname: "d" },
        { name: "l2", type: "link", linkname: "s" },
      ]),
      isInvalid,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a truncated tar is an InvalidArgumentError", async () => {
  const dir = await tempDir("apply");
  try {
    const bytes = await packEntries([{ name: "big", type: "file", data: Buffer.alloc(10_000, 1) }]);
    await assert.rejects(applyLayer(Readable.from([bytes.subarray(0, 3000)]), dir), isInvalid);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a large file arriving in 1 MiB pieces is written whole, in order, with its metadata", async () => {
  const dir = await tempDir("apply");
  try {
    // Pieces above and below the size written on the thread pool, mixed.
    const data = Buffer.from(Array.from({ length: (5 << 20) + 12_345 }, (_, i) => (i * 7 + (i >> 16)) & 0xff));
    const bytes = await packEntries([
      { name: "big", type: "file", mode: 0o4750, uid: 1234, gid: 5678, data },
      { name: "after", type: "file", data: "next entry" },
    ]);
    const pieces: Buffer[] = [];
    for (let off = 0, i = 0; off < bytes.length; i++) {
      const size = i % 3 === 2 ? 100_000 : 1 << 20;
      pieces.push(bytes.subarray(off, off + size));
      off += size;
    }
    await applyLayer(Readable.from(pieces), dir);
    assert.deepEqual(await readFile(join(dir, "big")), data);
    const st = await stat(join(dir, "big"));
    assert.equal(st.mode & 0o7777, 0o4750);
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 5678);
    assert.equal(st.mtime.toISOString(), "2020-01-02T03:04:05.000Z");
    assert.equal(await readFile(join(dir, "after"), "utf8"), "next entry");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a stream that breaks in the middle of a large file fails cleanly", async () => {
  const dir = await tempDir("apply");
  try {
    const bytes = await packEntries([{ name: "big", type: "file", data: Buffer.alloc(4 << 20, 3) }]);
    async function* broken(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, 1 << 20);
      yield bytes.subarray(1 << 20, 2 << 20);
      throw new Error("connection reset");
    }
    await assert.rejects(applyLayer(Readable.from(broken()), dir), /connection reset/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a symlink loop in a parent path is refused", async () => {
  const dir = await tempDir("apply");
  try {
    await assert.rejects(
      apply(dir, [
        { name: "a", type: "symlink", linkname: "b" },
        { name: "b", type: "symlink", linkname: "a" },
        { name: "a/file", type: "file", data: "x" },
      ]),
      isInvalid,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an aborted signal cancels applying", async () => {
  const dir = await tempDir("apply");
  try {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(apply(dir, [{ name: "f", type: "file", data: "x" }], { signal: controller.signal }), CancelledError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- escapes

test("escape: '../' entry lands inside the target", async () => {
  await sandbox(async (target) => {
    await apply(target, [
      { name: "../victim", type: "file", data: "overwritten?" },
      { name: "../../../../../../tanto-pwned", type: "file", data: "x" },
      { name: "a/../../decoy/keep", type: "file", data: "y" },
    ]);
    assert.equal(await readFile(join(target, "victim"), "utf8"), "overwritten?");
    assert.equal(await readFile(join(target, "tanto-pwned"), "utf8"), "x");
    assert.equal(await readFile(join(target, "decoy/keep"), "utf8"), "y");
  });
});

test("escape: absolute entry path is relative to the target", async () => {
  await sandbox(async (target, parent) => {
    await apply(target, [
      { name: "/etc/tanto-pwned", type: "file", data: "x" },
      { name: `${parent}/victim`, type: "file", data: "y" },
    ]);
    assert.equal(await readFile(join(target, "etc/tanto-pwned"), "utf8"), "x");
    assert.equal(await readFile(join(target, parent, "victim"), "utf8"), "y");
  });
});

test("escape: symlink to /etc, then a file through it", async () => {
  await sandbox(async (target) => {
    await apply(target, [
      { name: "evil", type: "symlink", linkname: "/etc" },
      { name: "evil/tanto-pwned", type: "file", data: "x" },
      { name: "evil/passwd", type: "file", data: "root::0:0::/:/bin/sh\n" },
    ]);
    assert.equal(await readlink(join(target, "evil")), "/etc");
    assert.equal(await readFile(join(target, "etc/tanto-pwned"), "utf8"), "x");
    assert.equal(await readFile(join(target, "etc/passwd"), "utf8"), "root::0:0::/:/bin/sh\n");
  });
});

test("escape: chain of '..' symlinks is clamped at the target", async () => {
  await sandbox(async (target) => {
    await apply(target, [
      { name: "sub/", type: "directory" },
      { name: "sub/up", type: "symlink", linkname: "../../../.." },
      { name: "up2", type: "symlink", linkname: "sub/up/sub/up/.." },
      { name: "up2/victim", type: "file", data: "inside" },
      { name: "sub/up/sub/up/decoy/keep", type: "file", data: "inside too" },
    ]);
    assert.equal(await readFile(join(target, "victim"), "utf8"), "inside");
    assert.equal(await readFile(join(target, "decoy/keep"), "utf8"), "inside too");
  });
});

test("escape: hardlink to /etc/passwd is refused", async () => {
  await sandbox(async (target) => {
    const nlink = (await stat("/etc/passwd")).nlink;
    for (const linkname of ["/etc/passwd", "../../../../etc/passwd", "../victim"]) {
      await assert.rejects(apply(target, [{ name: "stolen", type: "link", linkname }]), isInvalid);
    }
    assert.equal((await stat("/etc/passwd")).nlink, nlink);
    assert.equal(existsSync(join(target, "stolen")), false);
  });
});

test("escape: hardlink through a symlink resolves inside the target", async () => {
  await sandbox(async (target, parent) => {
    // A symlink to the real parent: the hardlink target must be looked up in the layer, not on the host.
    await assert.rejects(
      apply(target, [
        { name: "out", type: "symlink", linkname: parent },
        { name: "stolen", type: "link", linkname: "out/victim" },
      ]),
      isInvalid,
    );
    await assert.rejects(
      apply(target, [
        { name: "etc", type: "symlink", linkname: "/etc" },
        { name: "stolen", type: "link", linkname: "etc/passwd" },
      ]),
      isInvalid,
    );
    // The same shape with the file inside the layer is a legitimate hardlink.
    await apply(target, [
      { name: "real/data", type: "file", data: "d" },
      { name: "via", type: "symlink", linkname: "/real" },
      { name: "ok", type: "link", linkname: "via/data" },
    ]);
    assert.equal((await lstat(join(target, "ok"))).ino, (await lstat(join(target, "real/data"))).ino);
  });
});

test("escape: whiteouts with '..' stay inside the target", async () => {
  await sandbox(async (target) => {
    await apply(target, [
      { name: "../.wh.victim", type: "file" },
      { name: "../../../etc/.wh.passwd", type: "file" },
      { name: "a/../../decoy/.wh.keep", type: "file" },
      { name: "../.wh..wh..opq", type: "file" },
    ]);
    for (const p of ["victim", "etc/passwd", "decoy/keep"]) {
      const st = await lstat(join(target, p));
      assert.ok(st.isCharacterDevice() && st.rdev === 0, `${p} is a whiteout inside the target`);
    }
    await assert.rejects(apply(target, [{ name: "x/.wh...", type: "file" }]), isInvalid);
  });
});

test("escape: whiteout through a symlink to the host stays inside the target", async () => {
  await sandbox(async (target, parent) => {
    await apply(target, [
      { name: "host", type: "symlink", linkname: parent },
      { name: "host/.wh.victim", type: "file" },
      { name: "host/decoy/.wh..wh..opq", type: "file" },
    ]);
    assert.ok((await lstat(join(target, parent, "victim"))).isCharacterDevice());
    assert.equal(getXattr(join(target, parent, "decoy"), "trusted.overlay.opaque"), "y");
    assert.equal(getXattr(join(parent, "decoy"), "trusted.overlay.opaque"), undefined);
  });
});

test("escape: absolute symlink, then a directory through it", async () => {
  await sandbox(async (target, parent) => {
    await apply(target, [
      { name: "abs", type: "symlink", linkname: parent },
      { name: "abs/newdir/", type: "directory", mode: 0o777 },
      { name: "abs/newdir/file", type: "file", data: "x" },
      { name: "abs/decoy/", type: "directory", mode: 0o700, mtime: new Date(0) },
    ]);
    assert.equal(await readFile(join(target, parent, "newdir/file"), "utf8"), "x");
    assert.equal((await lstat(join(target, parent, "decoy"))).mode & 0o7777, 0o700);
    assert.equal(existsSync(join(parent, "newdir")), false);
  });
});

test("escape: file replaced by a directory, directory replaced by a symlink", async () => {
  await sandbox(async (target, parent) => {
    await apply(target, [
      { name: "x", type: "file", data: "file" },
      { name: "x/", type: "directory" },
      { name: "x/inner", type: "file", data: "inner" },
      // Metadata of "d" and "p/decoy" is recorded for the end; by then the paths lead to the host.
      { name: "d/", type: "directory", mode: 0o700, mtime: new Date(0) },
      { name: "p/decoy/", type: "directory", mode: 0o700, mtime: new Date(0) },
      { name: "d", type: "symlink", linkname: parent },
      { name: "p", type: "symlink", linkname: parent },
      { name: "d/victim", type: "file", data: "through the new symlink" },
    ]);
    assert.ok((await lstat(join(target, "x"))).isDirectory());
    assert.equal(await readFile(join(target, "x/inner"), "utf8"), "inner");
    assert.equal(await readFile(join(target, parent, "victim"), "utf8"), "through the new symlink");
  });
});

test("escape: a file entry over a symlink replaces the symlink", async () => {
  await sandbox(async (target, parent) => {
    await apply(target, [
      { name: "passwd", type: "symlink", linkname: "/etc/passwd" },
      { name: "passwd", type: "file", data: "replaced" },
      { name: "v", type: "symlink", linkname: join(parent, "victim") },
      { name: "v", type: "file", data: "replaced too" },
      { name: "dd", type: "symlink", linkname: join(parent, "decoy") },
      { name: "dd/", type: "directory", mode: 0o700 },
      { name: "dev", type: "symlink", linkname: join(parent, "victim") },
      { name: "dev", type: "fifo" },
    ]);
    assert.equal(await readFile(join(target, "passwd"), "utf8"), "replaced");
    assert.equal(await readFile(join(target, "v"), "utf8"), "replaced too");
    assert.ok((await lstat(join(target, "dd"))).isDirectory());
    assert.ok((await lstat(join(target, "dev"))).isFIFO());
  });
});

test("escape: symlink as a hardlink's new name is not followed", async () => {
  await sandbox(async (target, parent) => {
    await apply(target, [
      { name: "data", type: "file", data: "d" },
      { name: "name", type: "symlink", linkname: join(parent, "victim") },
      { name: "name", type: "link", linkname: "data" },
    ]);
    assert.equal((await lstat(join(target, "name"))).ino, (await lstat(join(target, "data"))).ino);
  });
});

test("escape: device node named through '..' stays inside", async () => {
  await sandbox(async (target) => {
    await apply(target, [{ name: "../../tanto-pwned", type: "character-device", devmajor: 1, devminor: 3 }]);
    assert.ok((await lstat(join(target, "tanto-pwned"))).isCharacterDevice());
  });
});

// ---------------------------------------------------------------- whiteouts: "delete", through an overlay mount

interface Overlay {
  lower: string;
  upper: string;
  merged: string;
}

/**
 * Mounts a real overlay (one lower, an empty upper) on `merged` (a fresh temp
 * directory unless given), fills the lower first with `fillLower`, runs `fn`,
 * and always unmounts and removes what it made.
 */
async function withOverlay(fillLower: (lower: string) => Promise<void>, fn: (o: Overlay) => Promise<void>, merged?: string): Promise<void> {
  const dir = await tempDir("overlay");
  const o: Overlay = { lower: join(dir, "lower"), upper: join(dir, "upper"), merged: merged ?? join(dir, "merged") };
  const work = join(dir, "work");
  let mounted = false;
  try {
    for (const d of [o.lower, o.upper, work, o.merged]) await mkdir(d, { recursive: true });
    await fillLower(o.lower);
    execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${o.lower},upperdir=${o.upper},workdir=${work}`, o.merged]);
    mounted = true;
    await fn(o);
  } finally {
    if (mounted) execFileSync("umount", [o.merged]);
    await rm(dir, { recursive: true, force: true });
  }
}

function assertOverlayWhiteout(st: { isCharacterDevice(): boolean; rdev: number }, what: string): void {
  assert.ok(st.isCharacterDevice() && st.rdev === 0, `${what} is a char 0/0 whiteout`);
}

test('"delete" whiteouts through an overlay: parents resolve through the lower layer', async () => {
  await withOverlay(
    async (lower) => {
      await mkdir(join(lower, "usr/lib"), { recursive: true });
      await symlink("usr/lib", join(lower, "lib"));
      await mkdir(join(lower, "etc"));
      await writeFile(join(lower, "etc/old"), "old");
      await writeFile(join(lower, "etc/stays"), "stays");
      await mkdir(join(lower, "keep"));
      await writeFile(join(lower, "keep/a"), "a");
      await mkdir(join(lower, "opq/sub"), { recursive: true });
      await writeFile(join(lower, "opq/x"), "x");
      await writeFile(join(lower, "opq/sub/deep"), "deep");
      await mkdir(join(lower, "data"), { mode: 0o750 });
      await chmod(join(lower, "data"), 0o750);
      await chown(join(lower, "data"), 1234, 5678);
      await mkdir(join(lower, "late"));
      await writeFile(join(lower, "late/old"), "old");
    },
    async ({ upper, merged }) => {
      await apply(
        merged,
        [
          { name: "lib/newfile", type: "file", data: "new" },
          { name: "etc/.wh.old", type: "file" },
          { name: "opq/", type: "directory", mode: 0o755 },
          { name: "opq/.wh..wh..opq", type: "file" },
          { name: "opq/y", type: "file", data: "y" },
          { name: "data/f", type: "file", data: "f" },
          { name: "nowhere/.wh.x", type: "file" },
          // Whiteouts hide lower layers only, whatever the order: these two entries stay.
          { name: "mine", type: "file", data: "mine" },
          { name: ".wh.mine", type: "file" },
          { name: "late/", type: "directory" },
          { name: "late/z", type: "file", data: "z" },
          { name: "late/.wh..wh..opq", type: "file" },
        ],
        { whiteouts: "delete" },
      );

      // The merged view: what a container on top would see.
      assert.ok((await lstat(join(merged, "lib"))).isSymbolicLink(), "lib is still a symlink");
      assert.equal(await readlink(join(merged, "lib")), "usr/lib");
      assert.equal(await readFile(join(merged, "usr/lib/newfile"), "utf8"), "new");
      assert.equal(existsSync(join(merged, "etc/old")), false);
      assert.equal(await readFile(join(merged, "etc/stays"), "utf8"), "stays");
      assert.equal(await readFile(join(merged, "keep/a"), "utf8"), "a");
      assert.deepEqual((await readdir(join(merged, "opq"))).sort(), ["y"]);
      const data = await lstat(join(merged, "data"));
      assert.equal(data.mode & 0o7777, 0o750, "an existing parent keeps its mode");
      assert.deepEqual([data.uid, data.gid], [1234, 5678], "an existing parent keeps its owner");
      assert.equal(existsSync(join(merged, "nowhere")), false, "a whiteout under a missing directory creates nothing");
      assert.equal(await readFile(join(merged, "mine"), "utf8"), "mine");
      assert.deepEqual(await readdir(join(merged, "late")), ["z"], "an opaque marker after entries keeps them, and only them");

      // The upper directory: the layer as stored, in overlay's format written by the kernel.
      assert.equal(existsSync(join(upper, "lib")), false, "no real lib/ directory in the upper layer");
      assert.equal(await readFile(join(upper, "usr/lib/newfile"), "utf8"), "new");
      assertOverlayWhiteout(await lstat(join(upper, "etc/old")), "upper etc/old");
      assert.equal(existsSync(join(upper, "etc/stays")), false);
      assert.equal(existsSync(join(upper, "keep")), false);
      for (const p of ["etc/.wh.old", "opq/.wh..wh..opq", ".wh.mine"]) assert.equal(existsSync(join(upper, p)), false, p);
    },
  );
});

test('escape: "delete" whiteouts through an overlay delete nothing outside it', async () => {
  await sandbox(async (target, parent) => {
    await withOverlay(
      async (lower) => {
        await mkdir(join(lower, "etc"));
        await writeFile(join(lower, "etc/passwd"), "lower passwd");
        await mkdir(join(lower, "keep"));
        await writeFile(join(lower, "keep/a"), "a");
        // A lower layer's symlink to the host, and one to a host directory.
        await symlink(parent, join(lower, "hostlink"));
        await symlink(join(parent, "decoy"), join(lower, "decoylink"));
      },
      async ({ upper, merged }) => {
        await apply(
          merged,
          [
            { name: "../.wh.victim", type: "file" },
            { name: "../../x/../../etc/.wh.passwd", type: "file" },
            { name: "a/../../decoy/.wh.keep", type: "file" },
            { name: "hostlink/.wh.victim", type: "file" },
            { name: "hostlink/decoy/.wh.keep", type: "file" },
            { name: "hostlink/decoy/.wh..wh..opq", type: "file" },
            { name: "decoylink/.wh.keep", type: "file" },
            { name: "decoylink/.wh..wh..opq", type: "file" },
            { name: "host", type: "symlink", linkname: parent },
            { name: "host/.wh.victim", type: "file" },
            { name: "host/.wh.decoy", type: "file" },
            // A whiteout naming a symlink removes the symlink, not what it points to.
            { name: ".wh.decoylink", type: "file" },
          ],
          { whiteouts: "delete" },
        );
        assert.equal(existsSync(join(merged, "etc/passwd")), false);
        assertOverlayWhiteout(await lstat(join(upper, "etc/passwd")), "upper etc/passwd");
        await assert.rejects(lstat(join(merged, "decoylink")), { code: "ENOENT" });
        assertOverlayWhiteout(await lstat(join(upper, "decoylink")), "upper decoylink");
        assert.ok((await lstat(join(merged, "hostlink"))).isSymbolicLink());
        assert.equal(await readFile(join(merged, "keep/a"), "utf8"), "a");

        // An opaque marker at the root (".." clamped) empties the merged root, and nothing else.
        await apply(merged, [{ name: "../.wh..wh..opq", type: "file" }], { whiteouts: "delete" });
        assert.deepEqual(await readdir(merged), []);
        await assert.rejects(apply(merged, [{ name: "x/.wh...", type: "file" }], { whiteouts: "delete" }), isInvalid);
      },
      target,
    );
  });
});

test("PAX uid/gid records set the owner: a setuid file for uid 3000000 is not setuid-root", async () => {
  const dir = await tempDir("apply");
  try {
    // tar-stream writes PAX records when given `pax`; the ustar fields keep 0 (root), as a hostile or naive writer might.
    await apply(dir, [
      { name: "suid", type: "file", mode: 0o4755, uid: 0, gid: 0, pax: { uid: "3000000", gid: "3000001" }, data: "x" },
      { name: "plain", type: "file", mode: 0o644, uid: 0, gid: 0, data: "y" },
    ]);
    const st = await lstat(join(dir, "suid"));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [3000000, 3000001, 0o4755]);
    const plain = await lstat(join(dir, "plain"));
    assert.deepEqual([plain.uid, plain.gid], [0, 0]);
    await assert.rejects(
      apply(dir, [{ name: "bad", type: "file", uid: 0, pax: { uid: "-1" }, data: "z" }]),
      (err: unknown) => err instanceof InvalidArgumentError && /PAX uid record "-1"/.test(err.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a 5000-byte symlink target is refused with its real length", async () => {
  const dir = await tempDir("apply");
  try {
    await assert.rejects(apply(dir, [{ name: "ln", type: "symlink", linkname: "t".repeat(5000) }]), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, String(err));
      assert.match(err.message, /layer entry "ln": symlink target too long \(5000 bytes; Linux allows 4095\)/);
      return true;
    });
    // 4095 bytes is the most Linux takes, and it is applied.
    await apply(dir, [{ name: "ok", type: "symlink", linkname: "t".repeat(4095) }]);
    assert.equal((await readlink(join(dir, "ok"))).length, 4095);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
