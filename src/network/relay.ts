/**
 * A TCP port on 127.0.0.1 inside a network namespace that relays every
 * connection to a unix socket on the host: how a process in a container
 * reaches a server of the engine (privileged nesting) without any route out
 * of its namespace. Node cannot enter a namespace, so Debian's socat does,
 * through nsenter; it runs in its own process group so that stopping the
 * relay also stops the children it forked per connection.
 *
 *   const relay = await startRelay({ netnsPath: ns.path, socketPath: "/run/x.sock" });
 *   // connect to 127.0.0.1:<relay.port> from inside the namespace
 *   await relay.stop();
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { CancelledError, UnavailableError } from "../errors.js";

export interface Relay {
  readonly port: number;
  readonly pid: number;
  /** Stop the relay and every connection it forked; idempotent. */
  stop(): Promise<void>;
}

export interface RelayOptions {
  netnsPath: string;
  socketPath: string;
  /** A fixed port; by default a random one in 20000–59999 (retried if taken). */
  port?: number;
  signal?: AbortSignal;
}

const READY_TIMEOUT_MS = 10_000;
const ATTEMPTS = 4;

export async function startRelay(opts: RelayOptions): Promise<Relay> {
  let last: unknown;
  for (let i = 0; i < (opts.port === undefined ? ATTEMPTS : 1); i++) {
    const port = opts.port ?? randomInt(20_000, 60_000);
    try {
      return await startOnce(opts, port);
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      last = err;
    }
  }
  throw last;
}

async function startOnce(opts: RelayOptions, port: number): Promise<Relay> {
  if (opts.signal?.aborted) throw new CancelledError("relay cancelled", { cause: opts.signal.reason });
  const child = spawn("nsenter", [`--net=${opts.netnsPath}`, "socat", `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${opts.socketPath}`], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr: Buffer[] = [];
  child.stderr?.on("data", (c: Buffer) => stderr.push(c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const spawned = await new Promise<boolean>((resolve) => {
    child.once("spawn", () => resolve(true));
    child.once("error", () => resolve(false));
  });
  if (!spawned || child.pid === undefined) throw new UnavailableError("cannot start the nesting relay: nsenter (util-linux) or socat is missing");
  const pid = child.pid;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= stopGroup(child, pid, exited));
  try {
    await waitListening(pid, port, exited, opts.signal, () => Buffer.concat(stderr).toString("utf8").trim());
  } catch (err) {
    await stop();
    throw err;
  }
  child.stderr?.removeAllListeners("data");
  child.stderr?.resume();
  return { port, pid, stop };
}

/** Polls the namespace's TCP table (seen through the relay's /proc entry) for the listening socket. */
async function waitListening(pid: number, port: number, exited: Promise<number | null>, signal: AbortSignal | undefined, stderr: () => string): Promise<void> {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let done: number | null | undefined;
  void exited.then((code) => {
    done = code;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (signal?.aborted) throw new CancelledError("relay cancelled", { cause: signal.reason });
    if (done !== undefined) throw new UnavailableError(`the nesting relay on 127.0.0.1:${port} exited (${done}): ${stderr() || "no output"}`);
    const table = await readFile(`/proc/${pid}/net/tcp`, "utf8").catch(() => "");
    if (table.split("\n").some((line) => line.trim().split(/\s+/)[1] === want && line.trim().split(/\s+/)[3] === "0A")) return;
    if (Date.now() > deadline) throw new UnavailableError(`the nesting relay did not listen on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function stopGroup(child: ChildProcess, pid: number, exited: Promise<number | null>): Promise<void> {
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is gone already
    }
  };
  signalGroup("SIGTERM");
  const timer = setTimeout(() => signalGroup("SIGKILL"), 2_000);
  if (child.exitCode === null && child.signalCode === null) await exited;
  clearTimeout(timer);
  // Children forked per connection outlive their parent by a moment: make sure none stays.
  signalGroup("SIGKILL");
}

/**
 * Relays a crashed engine left running (they outlive it: each has its own
 * process group), found by the socket directory on their command line and
 * killed by pid. Returns how many there were.
 */
export async function killLeftoverRelays(socketDir: string): Promise<number> {
  // A relay is left only by an engine that died with its socket still there: no socket, no scan of
  // every process on the host (hundreds of /proc reads at each start).
  if ((await readdir(socketDir).catch(() => [] as string[])).length === 0) return 0;
  let killed = 0;
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    const argv = cmdline.split("\0");
    if (!argv.some((a) => a === "socat" || a.endsWith("/socat")) || !argv.some((a) => a.startsWith(`UNIX-CONNECT:${socketDir}/`))) continue;
    try {
      process.kill(Number(name), "SIGKILL");
      killed++;
    } catch {
      // already gone
    }
  }
  return killed;
}
