/**
 * `tanto cache-volume export|import` through the engine's API: 10,000 files
 * with their modes, owners, symlinks and times go into a volume, an SDK
 * pipeline reads them through withMountedCache, and the export gives back
 * the same archive listing. An import is refused over an existing volume
 * without --replace, and while an exec has the volume mounted.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, run } from "./support/engine.js";
import { sdkEngine } from "./support/sdk-engine.js";

const FILES = 10_000;
const PER_DIR = 100;

const READ = `
import { connection, dag } from "@dagger.io/dagger";
let out;
await connection(async () => {
  out = await dag.container().from(process.env.TANTO_TEST_IMAGE)
    .withMountedCache("/cache", dag.cacheVolume(process.env.VOLUME))
    .withEnvVariable("RUN", String(Date.now()))
    .withExec(["sh", "-c", "cat /cache/d42/f4217; stat -c '%a %u %g %Y' /cache/d42/f4217; readlink /cache/d42/link; find /cache -type f | wc -l"])
    .stdout();
});
console.log(JSON.stringify({ out }));
`;

describe("cache volume export and import", () => {
  const t = sdkEngine();
  let dir: string;
  let seedTar: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-volume-"));
    const src = path.join(dir, "src");
    for (let d = 0; d < FILES / PER_DIR; d++) {
      const sub = path.join(src, `d${d}`);
      await fs.mkdir(sub, { recursive: true });
      await Promise.all(
        Array.from({ length: PER_DIR }, async (_, k) => {
          const i = d * PER_DIR + k;
          const file = path.join(sub, `f${i}`);
          await fs.writeFile(file, `file ${i}\n`);
          await fs.chown(file, 1000 + (i % 7), 2000 + (i % 3));
          await fs.chmod(file, [0o644, 0o600, 0o755, 0o640, 0o4755][i % 5]!);
          await fs.utimes(file, 1_600_000_000 + i, 1_600_000_000 + i);
        }),
      );
      await fs.symlink(`f${d * PER_DIR}`, path.join(sub, "link"));
    }
    seedTar = path.join(dir, "seed.tar");
    const tar = await run(["tar", "-c", "-f", seedTar, "--numeric-owner", "--sort=name", "-C", src, "."]);
    assert.equal(tar.code, 0, tar.stderr);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  /** `tar -tv` of an archive, one line per entry, in name order. */
  const listing = async (file: string): Promise<string[]> => {
    const r = await run(["tar", "-t", "-v", "--numeric-owner", "--full-time", "-f", file]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n").sort();
  };

  test("10,000 files round-trip with modes, owners, symlinks and times, and an SDK pipeline reads them", async () => {
    const imported = await run([CLI, "cache-volume", "import", "deps", seedTar], { env: t.env });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /cache volume "deps" imported/);

    const read = await run([CLI, "run", "node", "--input-type=module", "-e", READ], { env: { ...t.env, VOLUME: "deps" } });
    assert.equal(read.code, 0, read.stderr);
    const lines = (JSON.parse(read.stdout) as { out: string }).out.trim().split("\n");
    // File 4217: mode [..][4217 % 5 = 2] = 755, owner 1000 + 4217 % 7 = 1003, group 2000 + 4217 % 3 = 2002.
    assert.deepEqual(lines, ["file 4217", `755 1003 2002 ${1_600_000_000 + 4217}`, "f4200", String(FILES)]);

    const out = path.join(dir, "out.tar");
    const exported = await run([CLI, "cache-volume", "export", "deps", out], { env: t.env });
    assert.equal(exported.code, 0, exported.stderr);
    const [want, got] = await Promise.all([listing(seedTar), listing(out)]);
    assert.equal(got.length, FILES + (FILES / PER_DIR) * 2 + 1, "files, directories, symlinks and the root");
    assert.deepEqual(got, want);
  });

  test("an import over an existing volume needs --replace; a missing volume is not exported", async () => {
    const again = await run([CLI, "cache-volume", "import", "deps", seedTar], { env: t.env });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /cache volume "deps" already exists: pass --replace/);

    const small = path.join(dir, "small");
    await fs.mkdir(small, { recursive: true });
    await fs.writeFile(path.join(small, "only"), "replaced\n");
    const smallTar = path.join(dir, "small.tar");
    assert.equal((await run(["tar", "-c", "-f", smallTar, "-C", small, "."])).code, 0);
    const replaced = await run([CLI, "cache-volume", "import", "--replace", "deps", smallTar], { env: t.env });
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stderr, /cache volume "deps" replaced/);
    const exported = await run([CLI, "cache-volume", "export", "deps", "-"], { env: t.env });
    assert.equal(exported.code, 0, exported.stderr);
    const names = await run(["tar", "-t", "-f", "-"], { input: exported.stdout });
    assert.deepEqual(names.stdout.trim().split("\n").sort(), ["./", "./only"]);

    const missing = await run([CLI, "cache-volume", "export", "nope", path.join(dir, "nope.tar")], { env: t.env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cache volume "nope" not found/);
    await assert.rejects(fs.stat(path.join(dir, "nope.tar")));
    await assert.rejects(fs.stat(path.join(dir, "nope.tar.part")));

    const garbage = path.join(dir, "garbage.tar");
    await fs.writeFile(garbage, "not a tar archive at all".repeat(100));
    const bad = await run([CLI, "cache-volume", "import", "--replace", "deps", garbage], { env: t.env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /importing cache volume "deps": not a valid tar archive/);
    // The volume is as it was.
    const still = await run([CLI, "cache-volume", "export", "deps", "-"], { env: t.env });
    assert.deepEqual((await run(["tar", "-t", "-f", "-"], { input: still.stdout })).stdout.trim().split("\n").sort(), ["./", "./only"]);
  });

  test("--owner names the volume a pipeline mounts with that owner", async () => {
    const owned = path.join(dir, "owned");
    await fs.mkdir(owned, { recursive: true });
    await fs.writeFile(path.join(owned, "pkg.json"), "{}\n");
    await fs.chown(owned, 1000, 1000);
    const ownedTar = path.join(dir, "owned.tar");
    assert.equal((await run(["tar", "-c", "-f", ownedTar, "--numeric-owner", "-C", owned, "."])).code, 0);
    const imported = await run([CLI, "cache-volume", "import", "--owner", "1000", "node-modules", ownedTar], { env: t.env });
    assert.equal(imported.code, 0, imported.stderr);

    const program = `
      import { connection, dag } from "@dagger.io/dagger";
      let out;
      await connection(async () => {
        out = await dag.container().from(process.env.TANTO_TEST_IMAGE)
          .withMountedCache("/m", dag.cacheVolume("node-modules"), { owner: "1000" })
          .withExec(["sh", "-c", "ls /m; stat -c '%u' /m"]).stdout();
      });
      console.log(JSON.stringify({ out }));`;
    const read = await run([CLI, "run", "node", "--input-type=module", "-e", program], { env: t.env });
    assert.equal(read.code, 0, read.stderr);
    assert.equal((JSON.parse(read.stdout) as { out: string }).out, "pkg.json\n1000\n");

    // The plain volume of that key is another one, never made.
    const plain = await run([CLI, "cache-volume", "export", "node-modules", "-"], { env: t.env });
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /cache volume "node-modules" not found/);
    const exported = await run([CLI, "cache-volume", "export", "--owner", "1000", "node-modules", "-"], { env: t.env });
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual((await run(["tar", "-t", "-f", "-"], { input: exported.stdout })).stdout.trim().split("\n").sort(), ["./", "./pkg.json"]);
  });

  test("an import is refused while an exec has the volume mounted", async () => {
    const image = t.env["TANTO_TEST_IMAGE"]!;
    const doc = `{ container { from(address: "${image}") { withMountedCache(path: "/cache", cache: "${await volumeId(t.env, "busy")}", sharing: LOCKED) { withExec(args: ["sh", "-c", "touch /cache/started; sleep 4; echo done"]) { stdout } } } } }`;
    const tiny = path.join(dir, "tiny.tar");
    assert.equal((await run(["tar", "-c", "-f", tiny, "-C", path.join(dir, "src", "d0"), "."])).code, 0);
    const seed = await run([CLI, "cache-volume", "import", "busy", tiny], { env: t.env });
    assert.equal(seed.code, 0, seed.stderr);
    const query = spawn(CLI, ["query"], { env: t.env, stdio: ["pipe", "pipe", "pipe"] });
    query.stdin.end(doc);
    const finished = new Promise<number | null>((r) => query.on("close", r));
    let refusal = "";
    for (let i = 0; i < 40 && !refusal; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const r = await run([CLI, "cache-volume", "import", "--replace", "busy", tiny], { env: t.env });
      if (r.code !== 0) refusal = r.stderr;
    }
    assert.equal(await finished, 0);
    assert.match(refusal, /cache volume "busy" is in use \(mounted by a running exec/);
    // Free again once the exec ended.
    const after = await run([CLI, "cache-volume", "import", "--replace", "busy", tiny], { env: t.env });
    assert.equal(after.code, 0, after.stderr);
  });
});

describe("cache volumes through a registry", () => {
  const t = sdkEngine();

  test("push a volume as an image, pull it into another volume: the same files, modes and owners", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-volume-registry-"));
    try {
      const src = path.join(dir, "src");
      await fs.mkdir(path.join(src, "sub"), { recursive: true });
      for (let i = 0; i < 50; i++) {
        const file = path.join(src, "sub", `f${i}`);
        await fs.writeFile(file, `content ${i}\n`.repeat(i + 1));
        await fs.chown(file, 1000 + (i % 3), 2000);
        await fs.chmod(file, i % 2 ? 0o600 : 0o755);
      }
      await fs.symlink("sub/f1", path.join(src, "link"));
      const tar = path.join(dir, "seed.tar");
      assert.equal((await run(["tar", "-c", "-f", tar, "--numeric-owner", "--sort=name", "-C", src, "."])).code, 0);
      assert.equal((await run([CLI, "cache-volume", "import", "seedme", tar], { env: t.env })).code, 0);

      const registry = t.env["TANTO_TEST_IMAGE"]!.split("/")[0]!;
      const ref = `${registry}/tanto-volumes/seedme:v1`;
      const pushed = await run([CLI, "cache-volume", "push", "seedme", ref], { env: t.env });
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stderr, /cache volume "seedme" pushed to .*tanto-volumes\/seedme:v1 \(sha256:[0-9a-f]{64}\)/);

      const pulled = await run([CLI, "cache-volume", "pull", "copy", ref], { env: t.env });
      assert.equal(pulled.code, 0, pulled.stderr);
      const listings = await Promise.all(
        ["seedme", "copy"].map(async (name) => {
          const out = path.join(dir, `${name}.tar`);
          const r = await run([CLI, "cache-volume", "export", name, out], { env: t.env });
          assert.equal(r.code, 0, r.stderr);
          return (await run(["tar", "-t", "-v", "--numeric-owner", "--full-time", "-f", out])).stdout.trim().split("\n").sort();
        }),
      );
      assert.equal(listings[1]!.length, 53);
      assert.deepEqual(listings[1], listings[0]);

      const again = await run([CLI, "cache-volume", "pull", "copy", ref], { env: t.env });
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /cache volume "copy" already exists: pass --replace/);
      const notVolume = await run([CLI, "cache-volume", "pull", "--replace", "copy", t.env["TANTO_TEST_IMAGE"]!], { env: t.env });
      assert.notEqual(notVolume.code, 0);
      assert.match(notVolume.stderr, /busybox is not a cache volume pushed by tanto/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

/** The ID of cacheVolume(key), from the engine. */
async function volumeId(env: NodeJS.ProcessEnv, key: string): Promise<string> {
  const r = await run([CLI, "query"], { env, input: `{ cacheVolume(key: "${key}") { id } }` });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { cacheVolume: { id: string } }).cacheVolume.id;
}
