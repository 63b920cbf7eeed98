import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { treeChecksum } from "./content-checksums.js";

async function tree(files: Array<[string, string]>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-sum-"));
  for (const [name, body] of files) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), body);
  }
  return dir;
}

test("tree checksums follow content, not the order or time things were made", async () => {
  const a = await tree([
    ["src/a.txt", "one"],
    ["src/b.txt", "two"],
  ]);
  const b = await tree([
    ["src/b.txt", "two"],
    ["src/a.txt", "one"],
  ]);
  try {
    await fs.utimes(path.join(b, "src/a.txt"), new Date(0), new Date(0));
    assert.equal(await treeChecksum(a, "/src"), await treeChecksum(b, "/src"));
    assert.equal(await treeChecksum(a, "/src/a.txt"), await treeChecksum(b, "src/a.txt"));
    assert.notEqual(await treeChecksum(a, "/src/a.txt"), await treeChecksum(a, "/src/b.txt"));

    await fs.chmod(path.join(b, "src/a.txt"), 0o755);
    assert.notEqual(await treeChecksum(a, "/src"), await treeChecksum(b, "/src"), "modes count");
    await fs.chmod(path.join(b, "src/a.txt"), (await fs.stat(path.join(a, "src/a.txt"))).mode & 0o7777);
    await fs.writeFile(path.join(b, "src/a.txt"), "ONE");
    assert.notEqual(await treeChecksum(a, "/src"), await treeChecksum(b, "/src"), "contents count");
    await fs.symlink("a.txt", path.join(a, "src/link"));
    assert.notEqual(await treeChecksum(a, "/src"), await treeChecksum(b, "/src"), "links count");
    assert.equal(await treeChecksum(a, "/nope"), await treeChecksum(b, "/nope"), "a missing path has a checksum of its own");
  } finally {
    await fs.rm(a, { recursive: true, force: true });
    await fs.rm(b, { recursive: true, force: true });
  }
});
