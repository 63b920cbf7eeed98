/**
 * A real registry for tests: Debian's `docker-registry` (distribution v2) on
 * 127.0.0.1 with a random free port and its own storage directory.
 *
 *   const registry = await startRegistry();
 *   try { ... `${registry.host}/busybox:latest` ... } finally { await registry.stop(); }
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

const REGISTRY_BIN = process.env.TANTO_TEST_REGISTRY_BIN ?? "/usr/bin/docker-registry";
const START_TIMEOUT_MS = 15_000;

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** The storage directory, for tests that want to look. */
  root: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function answers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), "tanto-registry-"));
  const root = path.join(dir, "storage");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const configPath = path.join(dir, "config.yml");
  await writeFile(
    configPath,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${root}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      "",
    ].join("\n"),
  );

  const child = spawn(REGISTRY_BIN, ["serve", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  let spawnError: Error | undefined;
  child.on("error", (err) => {
    spawnError = err;
  });

  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const done = exited(child);
      process.kill(child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
      }, 5000);
      await done;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(host))) {
    if (spawnError || child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const why = spawnError?.message ?? (child.exitCode !== null ? `exited with code ${child.exitCode}` : "did not answer in time");
      throw new Error(`cannot start ${REGISTRY_BIN} on ${host}: ${why}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, root, stop };
}
