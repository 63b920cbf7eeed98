import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { mount, mountsUnder, unmount } from "./mount.js";
import { nativeMountAvailable } from "./native-mount.js";

const built = existsSync(fileURLToPath(new URL("../../native/mount.node", import.meta.url)));
const skip = !built ? "no C compiler or Node.js headers where this was built" : process.env["TANTO_NATIVE_MOUNT"] === "0" ? "TANTO_NATIVE_MOUNT=0" : false;

test("the addon loads wherever `npm run build` built it", { skip }, () => {
  assert.equal(nativeMountAvailable(), true);
});

test("overlay and read-only bind mounts, and unmounts, with the addon or mount(8)", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-native-mount-"));
  try {
    for (const d of ["1/fs", "2/fs", "3/fs", "3/work", "merged", "view"]) await fs.mkdir(path.join(dir, d), { recursive: true });
    await fs.writeFile(path.join(dir, "1/fs/low"), "low");
    await fs.writeFile(path.join(dir, "2/fs/mid"), "mid");
    const merged = path.join(dir, "merged");
    // Relative to cwd, as the snapshotter gives them.
    await mount(
      { type: "overlay", source: "overlay", cwd: dir, options: ["index=off", "volatile", "lowerdir=2/fs:1/fs", "upperdir=3/fs", "workdir=3/work"] },
      merged,
    );
    assert.deepEqual(await mountsUnder(dir), [merged]);
    assert.deepEqual((await fs.readdir(merged)).sort(), ["low", "mid"]);
    await fs.writeFile(path.join(merged, "new"), "new");
    assert.equal(await fs.readFile(path.join(dir, "3/fs/new"), "utf8"), "new");

    const view = path.join(dir, "view");
    await mount({ type: "bind", source: merged, options: ["rbind", "ro"] }, view);
    assert.equal(await fs.readFile(path.join(view, "mid"), "utf8"), "mid");
    await assert.rejects(fs.writeFile(path.join(view, "nope"), "x"), { code: "EROFS" });

    await unmount(view);
    await unmount(merged, { detach: true });
    assert.deepEqual(await mountsUnder(dir), []);
    // A failed call names the target and why.
    await assert.rejects(unmount(merged), (err: Error) => err.message.includes(merged));
    await assert.rejects(mount({ type: "overlay", source: "overlay", options: [`lowerdir=${path.join(dir, "missing")}`] }, merged), (err: Error) =>
      err.message.includes(merged),
    );
  } finally {
    for (const p of await mountsUnder(dir)) await unmount(p, { detach: true }).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
});

/** The per-mount options of the mount point `target` (mountinfo's sixth field), e.g. ["ro", "nosuid"]. */
async function mountOptions(target: string): Promise<string[]> {
  const line = (await fs.readFile("/proc/self/mountinfo", "utf8")).split("\n").findLast((l) => l.split(" ")[4] === target);
  assert.ok(line !== undefined, `${target} is not mounted`);
  return line.split(" ")[5]!.split(",");
}

test("a tmpfs with its options, and a read-only bind of it keeping its nosuid, nodev and noexec", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-native-mount-"));
  try {
    const tmp = path.join(dir, "tmp");
    const view = path.join(dir, "view");
    for (const d of [tmp, view]) await fs.mkdir(d);
    await mount({ type: "tmpfs", source: "tanto-test", options: ["mode=0710", "size=1m", "nosuid", "nodev", "noexec"] }, tmp);
    assert.equal((await fs.stat(tmp)).mode & 0o7777, 0o710);
    assert.deepEqual(
      (await mountOptions(tmp)).filter((o) => ["nosuid", "nodev", "noexec"].includes(o)),
      ["nosuid", "nodev", "noexec"],
    );
    await fs.writeFile(path.join(tmp, "f"), "f");

    // The kernel sets exactly the flags a remount gives: the read-only remount must carry the source's.
    await mount({ type: "bind", source: tmp, options: ["bind", "ro"] }, view);
    assert.deepEqual(
      (await mountOptions(view)).filter((o) => ["ro", "nosuid", "nodev", "noexec"].includes(o)),
      ["ro", "nosuid", "nodev", "noexec"],
    );
    assert.equal(await fs.readFile(path.join(view, "f"), "utf8"), "f");
    await unmount(view);
    await unmount(tmp);
    assert.deepEqual(await mountsUnder(dir), []);
  } finally {
    for (const p of await mountsUnder(dir)) await unmount(p, { detach: true }).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
});
