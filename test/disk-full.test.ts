/**
 * A full disk: the state directory on a small tmpfs is filled by execs until
 * a step fails; the failure is clean (the engine keeps answering), `tanto
 * engine du` and `prune --all` work on the full disk, a restart recovers and
 * the same pipeline runs again.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

describe("full disk", () => {
  let dir: string;
  let engine: TestEngine;
  let image: string;

  before(async () => {
    image = `${await testRegistry()}/busybox:latest`;
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-full-"));
    const m = await run(["mount", "-t", "tmpfs", "-o", "size=96m", "tanto-full", dir]);
    assert.equal(m.code, 0, m.stderr);
    engine = await startEngine({
      root: path.join(dir, "root"),
      configText: `[registry."${image.split("/")[0]}"]\nhttp = true\n[network]\nenabled = false\n[gc]\nenabled = false\n`,
    });
  });
  after(async () => {
    await engine.destroy();
    await run(["umount", "-l", dir]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  const fill = (i: number, mb: number): string =>
    `{ container { from(address: "${image}") { withEnvVariable(name: "I", value: "${i}") { withExec(args: ["sh", "-c", "dd if=/dev/urandom of=/fill bs=1M count=${mb} 2>&1 | tail -1; echo wrote-$I"]) { stdout file(path: "/fill") { size } } } } } }`;

  test("fill, fail cleanly, du and prune work, restart recovers, run again", async () => {
    const started = Date.now();
    // Something cached, then the filesystem filled to the last block from outside (another user of the disk).
    const first = await run([CLI, "query", fill(0, 10)], { env: engine.env, timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr);
    const filler = await fs.open(path.join(dir, "filler"), "w");
    const chunk = Buffer.alloc(1 << 20, 7);
    let filled = 0;
    try {
      for (;;) filled += (await filler.write(chunk)).bytesWritten;
    } catch {
      // ENOSPC: full.
    }
    await filler.close();
    const failed = await run([CLI, "query", fill(1, 10)], { env: engine.env, timeoutMs: 60_000 });
    console.log(
      `full disk: filled ${filled} bytes; the next pipeline: exit ${failed.code}: ${(failed.stdout + failed.stderr).replace(/\s+/g, " ").slice(-300)}`,
    );
    assert.notEqual(failed.code, 0);
    assert.match(failed.stdout + failed.stderr, /the state directory .*\/root is full \(\d+ bytes free; the step needs more.*run "tanto engine prune --all"/);
    assert.equal((await engine.client.health()).version.length > 0, true, "the engine still answers");

    const du = await run([CLI, "engine", "du"], { env: engine.env });
    assert.equal(du.code, 0, `du on a full disk: ${du.stderr}`);
    const gc = await run([CLI, "engine", "prune", "--keep-storage", "1MB"], { env: engine.env });
    assert.equal(gc.code, 0, `gc by policy on a full disk: ${gc.stderr}`);
    assert.match(du.stdout, /total/);
    const prune = await run([CLI, "engine", "prune", "--all"], { env: engine.env });
    assert.equal(prune.code, 0, `prune on a full disk: ${prune.stderr}`);
    assert.match(prune.stdout, /freed/);

    await fs.rm(path.join(dir, "filler"));
    await engine.restart();
    const again = await run([CLI, "query", fill(100, 10)], { env: engine.env, timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /wrote-100/);
    const left = await leftovers(engine.root);
    console.log(`full disk: recovered in ${Date.now() - started} ms; du ok, prune ok (${prune.stdout.trim()}); leaked mounts ${left.mounts.length}`);
  });
});
