/**
 * Secrets never leak: masked in stdout, stderr, errors and progress; never
 * in the state directory or the engine log; part of cache keys by HMAC only.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "secrets.mjs");

/** Files under `dir` containing `needle` (grep -r, binary files included). */
function filesContaining(dir: string, needle: string): string[] {
  try {
    return execFileSync("grep", ["-rlaF", "--", needle, dir], { encoding: "utf8" }).split("\n").filter(Boolean);
  } catch {
    return []; // grep exits 1 when nothing matches
  }
}

describe("secrets", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let workdir: string;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    workdir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-secrets-"));
    await fs.writeFile(path.join(workdir, "secret.txt"), "from-file");
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, TANTO_CLIENT_SECRET: "from-env" };
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(workdir, { recursive: true, force: true });
  });

  test("masked everywhere, usable as variable and file, resolved on the client; never on disk", async () => {
    const value = `s3cr3t-${Date.now()}`;
    const r = await run([CLI, "run", "node", PROGRAM], { env: { ...env, TANTO_SECRET_VALUE: value }, cwd: workdir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out["stdout"], "token=***\n");
    assert.equal(out["stderr"], "err=***\n");
    assert.equal(out["combined"], "token=***\nerr=***\n");
    assert.equal(out["file"], "***\n440\n");
    // An exec error's output is trimmed, as Dagger trims it.
    assert.equal(out["errStdout"], "leak ***");
    assert.equal(out["errStderr"], "leak ***");
    assert.doesNotMatch(String(out["errMessage"]), new RegExp(value));
    assert.equal(out["split"], "***\n");
    assert.equal(out["name"], "tok");
    assert.equal(out["plaintext"], true);
    assert.equal(out["env"], "from-env");
    assert.equal(out["fileSecret"], "from-file");
    assert.equal(out["cmd"], "from-command");
    assert.equal(out["withoutVar"], "[]\n");
    assert.doesNotMatch(r.stderr, new RegExp(value), "progress output");

    assert.deepEqual(filesContaining(engine.root, value), [], "state directory");
    assert.equal(out["exported"], path.join(workdir, "image.tar"));
    // Layers are compressed: search the unpacked image too.
    const unpacked = path.join(workdir, "unpacked");
    await fs.mkdir(unpacked);
    execFileSync("tar", ["-xf", path.join(workdir, "image.tar"), "-C", unpacked]);
    for (const blob of await fs.readdir(path.join(unpacked, "blobs", "sha256"))) {
      const file = path.join(unpacked, "blobs", "sha256", blob);
      const bytes = await fs.readFile(file);
      const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
      assert.equal(plain.includes(value), false, `blob ${blob} of the exported image holds the secret`);
    }
    assert.deepEqual(filesContaining(workdir, value), [], "exported image");
    assert.doesNotMatch(engine.logs(), new RegExp(value), "engine log");
  });

  test("changing the value re-runs what uses it; keeping it hits the cache", async () => {
    const runWith = async (value: string): Promise<number> => {
      const before = (await engine.client.stats()).executed["exec"] ?? 0;
      const r = await run([CLI, "run", "node", PROGRAM], { env: { ...env, TANTO_SECRET_VALUE: value }, cwd: workdir });
      assert.equal(r.code, 0, r.stderr);
      return ((await engine.client.stats()).executed["exec"] ?? 0) - before;
    };
    const first = await runWith("value-one");
    assert.ok(first > 0);
    // The failing exec is never cached, so exactly one exec runs again.
    assert.equal(await runWith("value-one"), 1);
    assert.equal(await runWith("value-two"), first);
  });
});
