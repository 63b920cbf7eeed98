import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { InvalidArgumentError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";
import { parseGroup, parsePasswd, resolveUser, resolveUserFrom } from "./user.js";

const passwd = parsePasswd(
  [
    "root:x:0:0:root:/root:/bin/sh",
    "# a comment",
    "broken:x:abc:0::/:/bin/sh",
    "app:x:1000:1001:App:/home/app:/bin/sh",
    "nobody:x:65534:65534::/nonexistent:/bin/false",
    "",
  ].join("\n"),
);
const group = parseGroup(["root:x:0:", "wheel:x:10:app,root", "app:x:1001:", "docker:x:999: app ", "nogroup:x:65534:"].join("\n"));

describe("parsePasswd / parseGroup", () => {
  it("skips comments and malformed lines", () => {
    assert.deepEqual(
      passwd.map((e) => e.name),
      ["root", "app", "nobody"],
    );
    assert.deepEqual(passwd[1], { name: "app", uid: 1000, gid: 1001, home: "/home/app" });
    assert.deepEqual(group[1], { name: "wheel", gid: 10, members: ["app", "root"] });
    assert.deepEqual(group[3], { name: "docker", gid: 999, members: ["app"] });
  });
});

describe("resolveUserFrom", () => {
  it("resolves a name to its ids and supplementary groups", () => {
    assert.deepEqual(resolveUserFrom("app", passwd, group), { uid: 1000, gid: 1001, additionalGids: [10, 999] });
  });
  it("resolves a known uid like its name", () => {
    assert.deepEqual(resolveUserFrom("1000", passwd, group), { uid: 1000, gid: 1001, additionalGids: [10, 999] });
  });
  it("accepts an unknown uid with gid 0", () => {
    assert.deepEqual(resolveUserFrom("4242", passwd, group), { uid: 4242, gid: 0, additionalGids: [] });
  });
  it("takes an explicit group instead of memberships", () => {
    assert.deepEqual(resolveUserFrom("app:docker", passwd, group), { uid: 1000, gid: 999, additionalGids: [] });
    assert.deepEqual(resolveUserFrom("app:5", passwd, group), { uid: 1000, gid: 5, additionalGids: [] });
    assert.deepEqual(resolveUserFrom("7:8", undefined, undefined), { uid: 7, gid: 8, additionalGids: [] });
  });
  it("treats an empty user as root", () => {
    assert.deepEqual(resolveUserFrom("", passwd, group), { uid: 0, gid: 0, additionalGids: [10] });
    assert.deepEqual(resolveUserFrom("", undefined, undefined), { uid: 0, gid: 0, additionalGids: [] });
  });
  it("names an unknown user or group", () => {
    assert.throws(
      () => resolveUserFrom("ghost", passwd, group),
      (e) => e instanceof InvalidArgumentError && /"ghost"/.test(e.message),
    );
    assert.throws(
      () => resolveUserFrom("app:ghosts", passwd, group),
      (e) => e instanceof InvalidArgumentError && /"ghosts"/.test(e.message),
    );
    assert.throws(() => resolveUserFrom("ghost", undefined, undefined), /no \/etc\/passwd/);
  });
  it("uses numbers alone when there are no files", () => {
    assert.deepEqual(resolveUserFrom("1000", undefined, undefined), { uid: 1000, gid: 0, additionalGids: [] });
  });
});

describe("resolveUser on a rootfs", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tanto-user-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads /etc/passwd and /etc/group", async () => {
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "etc/passwd"), "app:x:1000:1000::/:/bin/sh\n");
    writeFileSync(join(dir, "etc/group"), "extra:x:50:app\n");
    assert.deepEqual(await resolveUser("app", dir), { uid: 1000, gid: 1000, additionalGids: [50] });
  });

  it("works without /etc for numeric users", async () => {
    assert.deepEqual(await resolveUser("12:34", dir), { uid: 12, gid: 34, additionalGids: [] });
    assert.deepEqual(await resolveUser("12", dir), { uid: 12, gid: 0, additionalGids: [] });
    await assert.rejects(resolveUser("app", dir), InvalidArgumentError);
  });

  it("does not follow symlinks out of the rootfs", async () => {
    // /etc/passwd -> /host-passwd must mean <rootfs>/host-passwd, never the host's file.
    const outside = join(dir, "outside");
    const rootfs = join(dir, "rootfs");
    mkdirSync(outside);
    mkdirSync(join(rootfs, "etc"), { recursive: true });
    writeFileSync(join(outside, "passwd"), "evil:x:0:0::/:/bin/sh\n");
    writeFileSync(join(rootfs, "passwd-in-root"), "good:x:5:5::/:/bin/sh\n");
    symlinkSync(join(outside, "passwd"), join(rootfs, "etc/passwd"));
    await assert.rejects(resolveUser("evil", rootfs), InvalidArgumentError);
    symlinkSync("../../../../../../outside/passwd", join(rootfs, "etc/group"));
    assert.equal(await resolveInRoot(rootfs, "/etc/group", { followLast: true }), join(rootfs, "outside/passwd"));
    rmSync(join(rootfs, "etc/passwd"));
    symlinkSync("/passwd-in-root", join(rootfs, "etc/passwd"));
    assert.deepEqual(await resolveUser("good", rootfs), { uid: 5, gid: 5, additionalGids: [] });
  });

  it("stops at symlink loops", async () => {
    mkdirSync(join(dir, "etc"));
    symlinkSync("passwd", join(dir, "etc/passwd"));
    await assert.rejects(resolveUser("app", dir), /too many levels/);
  });
});
