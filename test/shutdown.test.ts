/**
 * SIGTERM always stops the engine, cleanly and in bounded time: with work in
 * flight while nobody reads its output any more (the test runner or
 * supervisor that started it was killed), and while it is still starting.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const EXIT_LIMIT_MS = 20_000;

/** Resolves with the exit code, or undefined when the process is still there after `ms`. */
function exitWithin(child: { pid?: number | undefined; exitCode: number | null; once(e: "exit", f: (c: number | null) => void): unknown }, ms: number) {
  return new Promise<number | null | undefined>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve(undefined), ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function hostLeftovers(root: string, networkName: string): Promise<{ dnsmasq: string[]; links: string[] }> {
  const dnsmasq = (await run(["ps", "-eo", "args"])).stdout.split("\n").filter((l) => l.includes("dnsmasq") && l.includes(root));
  const links = (await run(["ip", "-o", "link"])).stdout.split("\n").filter((l) => l.includes(networkName));
  return { dnsmasq, links };
}

describe("shutdown", () => {
  test("SIGTERM with an exec running and nobody reading the engine's output: exits 0, promptly, leaving nothing", async () => {
    const image = `${await testRegistry()}/busybox:latest`;
    const engine = await startEngine();
    try {
      const q = `{ container { from(address: "${image}") { withExec(args: ["sleep", "300"]) { stdout } } } }`;
      const client = spawn(CLI, ["query", q], { env: engine.env, stdio: "ignore" });
      const deadline = Date.now() + 60_000;
      while ((await leftovers(engine.root)).containers.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok((await leftovers(engine.root)).containers.length > 0, "the exec runs");
      // The parent that read the engine's output is gone: every log line from now on fails with EPIPE.
      engine.detachOutput();
      const pid = engine.pid!;
      const started = Date.now();
      const stopping = engine.stop();
      const code = await Promise.race([stopping, new Promise<"hung">((r) => setTimeout(() => r("hung"), EXIT_LIMIT_MS))]);
      const tookMs = Date.now() - started;
      if (code === "hung") {
        process.kill(pid, "SIGKILL");
        await stopping;
      }
      client.kill("SIGKILL");
      const left = await leftovers(engine.root);
      const host = await hostLeftovers(engine.root, engine.networkName);
      const pidFile = await fs.stat(path.join(engine.root, "engine.pid")).then(
        () => true,
        () => false,
      );
      console.log(
        `shutdown with dead output: exit ${code} after ${tookMs} ms; leaks: mounts ${left.mounts.length}, containers ${left.containers.length}, dnsmasq ${host.dnsmasq.length}, links ${host.links.length}`,
      );
      assert.equal(code, 0, `the engine exited with ${code} after ${tookMs} ms`);
      assert.deepEqual(left, { mounts: [], containers: [] });
      assert.deepEqual(host, { dnsmasq: [], links: [] });
      assert.equal(pidFile, false, "engine.pid removed");
    } finally {
      await engine.destroy();
    }
  });

  test("SIGTERM while the engine is starting: it stops once started, exits 0 and leaves nothing", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-shutdown-"));
    const root = path.join(dir, "root");
    const config = path.join(dir, "engine.toml");
    await fs.writeFile(config, "");
    const r = randomBytes(3);
    const networkName = `ts${r.toString("hex")}`;
    const child = spawn(
      process.execPath,
      [
        path.join(REPO, "dist/src/cli/main.js"),
        "engine",
        "--root",
        root,
        "--config",
        config,
        "--addr",
        `unix://${path.join(dir, "engine.sock")}`,
        "--debug",
        "--network-name",
        networkName,
        "--network-cidr",
        `10.${200 + (r[0]! % 50)}.${r[1]}.0/24`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    try {
      // Engine.open has begun (its first step logs this): the signal arrives mid-start.
      const deadline = Date.now() + 120_000;
      while (!output.includes("repairing what a previous engine left") && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(output.includes("repairing"), output);
      const started = Date.now();
      child.kill("SIGTERM");
      // The rest of the start comes first (about a second; much longer on a starved host).
      const code = await exitWithin(child, 150_000);
      const tookMs = Date.now() - started;
      if (code === undefined) child.kill("SIGKILL");
      const left = await leftovers(root);
      const host = await hostLeftovers(root, networkName);
      console.log(`shutdown while starting: exit ${code} after ${tookMs} ms`);
      assert.equal(code, 0, output);
      assert.match(output, /stop requested while starting/);
      assert.match(output, /engine stopped/);
      assert.deepEqual(left, { mounts: [], containers: [] });
      assert.deepEqual(host, { dnsmasq: [], links: [] });
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
