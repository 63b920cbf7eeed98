/**
 * `tanto engine --inspect[=HOST:PORT]`, `tanto engine stats` and the engine
 * line of `tanto version`: looking into a running engine. The inspector opens in the engine's own process (no
 * re-exec), so the PID a debugger attaches to is the engine's.
 */
import * as inspector from "node:inspector";
import { connectEngine, RUNNER_HOST_ENV } from "../client/connect.js";
import { EngineClient } from "../client/engine-client.js";
import { isKubePodRunnerHost, kubePodEngineClient } from "../client/kube-pod.js";
import { DOCKER_CONTAINER_SCHEME, dockerEngineClient } from "../client/runner-hosts.js";
import { InvalidArgumentError, messageOf } from "../errors.js";

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 9229;

/** `true` (the flag alone), `PORT`, `HOST` or `HOST:PORT` (IPv6 as `[::1]:9229`). */
export function parseInspectAddress(value: string | true): { host: string; port: number } {
  if (value === true || value === "") return { host: DEFAULT_HOST, port: DEFAULT_PORT };
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(value);
  if (/^\d+$/.test(value)) return { host: DEFAULT_HOST, port: Number(value) };
  const port = m?.[3] !== undefined ? Number(m[3]) : DEFAULT_PORT;
  const host = m?.[1] ?? m?.[2] ?? "";
  if (!m || !host || port > 65535) throw new InvalidArgumentError(`invalid --inspect "${value}": want HOST:PORT, HOST or PORT`);
  return { host, port };
}

/**
 * Open Node's inspector before the engine starts, so startup can be debugged
 * too. Node itself logs "Debugger listening on ws://…" on stderr.
 */
export function openInspector(value: string | true): string {
  const { host, port } = parseInspectAddress(value);
  inspector.open(port, host, false);
  return inspector.url() ?? `ws://${host}:${port}`;
}

/** What the engine has executed and answered from cache since it started. */
export async function statsCommand(): Promise<void> {
  const engine = await connectEngine((line) => void process.stderr.write(line + "\n"));
  try {
    process.stdout.write(JSON.stringify(await engine.stats(), null, 2) + "\n");
  } finally {
    engine.close();
  }
}

/**
 * "engine VERSION at URL" for the runner host in the environment, or
 * undefined when none is set (then `tanto version` stays a local command).
 * Never starts anything: docker-image:// hosts are not contacted.
 */
export async function engineVersionLine(): Promise<string | undefined> {
  const url = process.env[RUNNER_HOST_ENV];
  if (!url || !(url.startsWith("unix://") || url.startsWith("tcp://") || url.startsWith(DOCKER_CONTAINER_SCHEME) || isKubePodRunnerHost(url))) return undefined;
  let client: EngineClient | undefined;
  try {
    client = url.startsWith(DOCKER_CONTAINER_SCHEME)
      ? await dockerEngineClient(url, () => undefined)
      : isKubePodRunnerHost(url)
        ? await kubePodEngineClient(url)
        : new EngineClient(url);
    return `engine ${(await client.health()).version} at ${url}`;
  } catch (err) {
    return `engine unreachable at ${url}: ${messageOf(err)}`;
  } finally {
    client?.close();
  }
}
