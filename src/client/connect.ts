/**
 * Finding the engine: `_EXPERIMENTAL_DAGGER_RUNNER_HOST` (what the official
 * SDKs pass on: unix://, tcp://, docker-container:// and docker-image://
 * from runner-hosts.ts, kube-pod:// from kube-pod.ts), else the default socket. When nothing answers at the default
 * socket and we are root, start `tanto engine` on this host in the background
 * and use it from then on: the embedded default, no Docker needed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError, messageOf, UnavailableError } from "../errors.js";
import { DEFAULT_ADDRESS } from "../http/address.js";
import { EngineClient } from "./engine-client.js";

export const RUNNER_HOST_ENV = "_EXPERIMENTAL_DAGGER_RUNNER_HOST";
const START_TIMEOUT_MS = 30_000;
const LOG_FILE = "/var/log/tanto-engine.log";

export async function connectEngine(log: (line: string) => void): Promise<EngineClient> {
  const configured = process.env[RUNNER_HOST_ENV];
  const url = configured || DEFAULT_ADDRESS;
  // Runner hosts other than a socket load their code only when named.
  const viaCommand = url.startsWith("unix://") || url.startsWith("tcp://") ? undefined : await commandRunnerHost(url, log);
  if (viaCommand) {
    const client = await viaCommand();
    try {
      await client.health();
      return client;
    } catch (err) {
      client.close();
      throw new UnavailableError(`no engine answers at ${url}: ${messageOf(err)}`);
    }
  }
  if (!url.startsWith("unix://") && !url.startsWith("tcp://")) {
    throw new InvalidArgumentError(
      `${RUNNER_HOST_ENV}="${url}": unsupported runner host; want unix://, tcp://, docker-container://, docker-image:// or kube-pod://`,
    );
  }
  const client = new EngineClient(url);
  try {
    await client.health();
    return client;
  } catch (err) {
    if (url !== DEFAULT_ADDRESS || process.getuid?.() !== 0) {
      throw new UnavailableError(`no engine answers at ${url}: ${messageOf(err)}`);
    }
  }
  log(`no engine at ${url}; starting one on this host (log: ${LOG_FILE})`);
  await startEngineInBackground();
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await client.health();
      return client;
    } catch (err) {
      if (Date.now() > deadline) throw new UnavailableError(`the engine did not start within ${START_TIMEOUT_MS / 1000}s; see ${LOG_FILE}: ${messageOf(err)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A client for an engine at a unix:// or tcp:// address (configured, or the default socket) that asks
 * it nothing yet, for a command whose first request tells whether it answers (then connectEngine says
 * why not, or starts one); undefined for the runner hosts that need a client of their own.
 */
export function engineAtAddress(): EngineClient | undefined {
  const url = process.env[RUNNER_HOST_ENV] || DEFAULT_ADDRESS;
  return url.startsWith("unix://") || url.startsWith("tcp://") ? new EngineClient(url) : undefined;
}

/** For docker-container://, docker-image:// and kube-pod:// URLs: the way to open their client. */
async function commandRunnerHost(url: string, log: (line: string) => void): Promise<(() => Promise<EngineClient>) | undefined> {
  const kube = await import("./kube-pod.js");
  if (kube.isKubePodRunnerHost(url)) return () => kube.kubePodEngineClient(url);
  const docker = await import("./runner-hosts.js");
  if (docker.isDockerRunnerHost(url)) return () => docker.dockerEngineClient(url, log);
  return undefined;
}

async function startEngineInBackground(): Promise<void> {
  // Loaded only here: node:child_process is a good part of a CLI command's start.
  const { spawn } = await import("node:child_process");
  // The CLI that is running (the compiled main.js, or the engine image's one bundled file) starts it:
  // this module itself may be a chunk of the CLI's bundle.
  const main =
    process.argv[1] && fs.existsSync(process.argv[1]) ? process.argv[1] : path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "cli", "main.js");
  const out = fs.openSync(LOG_FILE, "a");
  const child = spawn(process.execPath, [main, "engine"], { detached: true, stdio: ["ignore", out, out] });
  child.unref();
  fs.closeSync(out);
}
