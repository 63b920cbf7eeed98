import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { cleanPath, mkdirInRoot, resolveInRoot } from "./in-root.js";

let dir: string;
let root: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-inroot-"));
  root = path.join(dir, "root");
  await fs.mkdir(path.join(root, "etc"), { recursive: true });
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

test("absolute symlinks resolve inside the root", async () => {
  await fs.symlink("/etc", path.join(root, "link"));
  assert.equal(await resolveInRoot(root, "/link/passwd"), path.join(root, "etc/passwd"));
});

test("`..` stops at the root", async () => {
  assert.equal(await resolveInRoot(root, "/../../../etc/shadow"), path.join(root, "etc/shadow"));
  await fs.symlink("../../../../..", path.join(root, "up"));
  assert.equal(await resolveInRoot(root, "/up/etc/x", { followLast: true }), path.join(root, "etc/x"));
});

test("the last component is followed only when asked", async () => {
  await fs.symlink("/etc", path.join(root, "l"));
  assert.equal(await resolveInRoot(root, "/l"), path.join(root, "l"));
  assert.equal(await resolveInRoot(root, "/l", { followLast: true }), path.join(root, "etc"));
});

test("symlink loops are an error", async () => {
  await fs.symlink("b", path.join(root, "a"));
  await fs.symlink("a", path.join(root, "b"));
  await assert.rejects(resolveInRoot(root, "/a/x"), /too many levels of symbolic links/);
});

test("mkdirInRoot creates through in-root symlinks and never outside", async () => {
  await fs.symlink("/", path.join(root, "escape"));
  const made = await mkdirInRoot(root, "/escape/tmp/new");
  assert.equal(made, path.join(root, "tmp/new"));
  assert.ok((await fs.stat(path.join(root, "tmp/new"))).isDirectory());
  await assert.rejects(fs.stat(path.join(dir, "tmp")));
});

test("cleanPath makes container paths absolute and clean", () => {
  assert.equal(cleanPath("a/../b", "/work"), "/work/b");
  assert.equal(cleanPath("/x/./y/"), "/x/y");
  assert.equal(cleanPath("../../.."), "/");
});
