/** `tanto engine`: load the config, open the engine, serve until SIGTERM. */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as path from "node:path";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../config/engine-config.js";
import { messageOf } from "../errors.js";
import { startHostSpawnHelper } from "../host-spawn.js";
import { DEFAULT_ADDRESS, parseAddress, TOKEN_ENV } from "../http/address.js";
import { VERSION } from "../version.js";
import { startDebugServer } from "./debug-server.js";
import { Engine } from "./engine.js";
import { createHandler, createUpgradeHandler } from "./http-api.js";
import { listen } from "./listen.js";
import { createLogger } from "./log.js";
import { preflight } from "./preflight.js";

export interface DaemonOptions {
  root?: string;
  config?: string;
  addr: string[];
  debug: boolean;
  networkName?: string;
  networkCidr?: string;
}

export async function runDaemon(opts: DaemonOptions): Promise<void> {
  // Its Node.js start overlaps ours: the start's first mount and `ip` commands need it.
  startHostSpawnHelper();
  const { config, warnings } = await loadConfig(opts.config ?? DEFAULT_CONFIG_PATH, { required: opts.config !== undefined });
  if (opts.root) config.root = opts.root;
  if (opts.debug) config.debug = true;
  if (opts.networkName) config.network.name = opts.networkName;
  if (opts.networkCidr) config.network.cidr = opts.networkCidr;
  const log = createLogger({ debug: config.debug });
  for (const w of warnings) log.warn(w);
  const addresses = (opts.addr.length > 0 ? opts.addr : [DEFAULT_ADDRESS]).map(parseAddress);

  // A signal while starting is not lost: the engine stops as soon as it is up
  // (what it set up is undone, as at any stop).
  let stop: ((signal: string) => void) | undefined;
  let stopRequested: string | undefined;
  const onSignal = (signal: string): void => {
    if (stop) return stop(signal);
    if (stopRequested !== undefined) return;
    stopRequested = signal;
    log.info("stop requested while starting: stopping once started", { signal });
    // A start that never finishes must not make the engine unstoppable.
    setTimeout(() => {
      log.error("engine did not finish starting in time after a stop was requested: exiting", { deadline_s: START_DEADLINE_MS / 1000 });
      process.exit(1);
    }, START_DEADLINE_MS);
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  // Nobody may be reading our output any more (a killed supervisor): its write errors are no fault of ours.
  process.stdout.on("error", () => undefined);

  const started = performance.now();
  // One line naming what the host lacks, before anything starts.
  await preflight({ root: path.resolve(config.root), network: config.network.enabled });
  const engine = await Engine.open(config, log);
  const servers: http.Server[] = [];
  try {
    const token = addresses.some((a) => a.kind === "tcp") ? await engineToken(config.root) : undefined;
    if (token) log.info("tcp listeners require the engine token", { token_file: path.join(config.root, TOKEN_FILE), env: TOKEN_ENV });
    for (const addr of addresses) {
      const auth = addr.kind === "tcp" && token ? { token } : {};
      const server = http.createServer({ keepAliveTimeout: 60_000 }, createHandler(engine, auth));
      server.on("upgrade", createUpgradeHandler(engine, auth));
      // Queries may run for hours (a long build); never time them out here.
      server.requestTimeout = 0;
      server.headersTimeout = 60_000;
      await listen(server, addr);
      // Once listening, a failure to accept one connection (EMFILE…) concerns that connection only.
      server.on("error", (err) => log.warn("listener error", { error: messageOf(err) }));
      servers.push(server);
    }
  } catch (err) {
    await engine.close();
    throw err;
  }
  if (config.debugAddr !== undefined) {
    try {
      const debug = await startDebugServer(engine, config.debugAddr);
      servers.push(debug.server);
      log.info("debug listener", { debugaddr: debug.url, metrics: `${debug.url}/metrics`, health: `${debug.url}/debug/health` });
    } catch (err) {
      for (const s of servers) s.close();
      await engine.close();
      throw err;
    }
  }
  engine.startAutoGc();
  log.info("engine started", {
    version: VERSION,
    root: config.root,
    addr: addresses.map((a) => (a.kind === "unix" ? `unix://${a.path}` : `tcp://${a.host}:${a.port}`)).join(","),
    startup_ms: Math.round(performance.now() - started),
  });

  let stopping = false;
  stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info("engine stopping", { signal });
    // Whatever hangs (a container that cannot be killed, a host command that never returns), the engine goes:
    // the next start on this root removes what is left, as after a crash.
    setTimeout(() => {
      log.error("engine did not stop in time: exiting; the next start on this root removes what is left", {
        deadline_s: SHUTDOWN_DEADLINE_MS / 1000,
        stuck_at: engine.closing ?? "closing listeners",
      });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
    }
    engine.close().then(
      () => {
        log.info("engine stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error("engine did not stop cleanly", { error: messageOf(err) });
        process.exit(1);
      },
    );
  };
  // A last resort, not a way of handling errors: every request handles its own
  // faults; one that escapes is a bug, logged loudly, and must not take every
  // other session down with it.
  process.on("uncaughtException", (err) =>
    log.error("uncaught exception (a bug: a fault escaped its request)", { error: messageOf(err), stack: err.stack ?? "" }),
  );
  process.on("unhandledRejection", (err) => log.error("unhandled rejection (a bug: a fault escaped its request)", { error: messageOf(err) }));
  if (stopRequested !== undefined) stop(stopRequested);
}

/**
 * The longest a stop may take: sessions are ended at once (cancelling their
 * work), services get their 10 s to stop, containers are killed; past this,
 * the engine exits anyway.
 */
const SHUTDOWN_DEADLINE_MS = 30_000;

/** How long a start may still take once a stop was requested (a start takes ~1 s; tens on a starved host). */
const START_DEADLINE_MS = 120_000;

const TOKEN_FILE = "engine-token";

/**
 * The token TCP clients must present: $TANTO_ENGINE_TOKEN if set, else one
 * made once and kept in <root>/engine-token (mode 0600) for the admin to hand out.
 */
async function engineToken(root: string): Promise<string> {
  const fromEnv = process.env[TOKEN_ENV];
  if (fromEnv) return fromEnv;
  const file = path.join(root, TOKEN_FILE);
  const existing = (await fs.readFile(file, "utf8").catch(() => "")).trim();
  if (existing) return existing;
  const token = randomBytes(32).toString("base64url");
  await fs.mkdir(root, { recursive: true });
  await fs.writeFile(file, token + "\n", { mode: 0o600 });
  return token;
}
