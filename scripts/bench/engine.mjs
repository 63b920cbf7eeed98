/**
 * The engines the bench starts and the sessions it opens on them: `tanto engine` as a child
 * (its own root, config, socket and log in the bench's directory), `tanto session` the way the
 * SDK opens one, GraphQL over the session's port, and the engine's HTTP API on its socket.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { stopChild, tail } from "./util.mjs";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The launcher a user runs. */
export const TANTO = path.join(REPO, "bin", "tanto");
/** What node runs: bin/tanto is a sh launcher, and spawning node itself keeps the engine's PID ours. */
export const TANTO_JS = path.join(REPO, "dist", "src", "cli", "main.js");

/** Talk HTTP to the engine's unix socket directly: the timings must not include a CLI process start. */
export function engineRequest(socketPath, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method, agent: false, headers: body ? { "content-type": "application/json" } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode === 200) resolve(JSON.parse(text));
        else reject(new Error(`${method} ${urlPath}: ${res.statusCode} ${text.slice(0, 300)}`));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

export const engineGet = (socketPath, urlPath) => engineRequest(socketPath, "GET", urlPath);

/** Start `tanto engine`; its stderr goes to `logFile` (read it when something fails). */
export function startEngine({ root, configFile, socket, logFile, env = process.env }) {
  const out = fs.openSync(logFile, "a");
  try {
    // Spawn node itself (not the bin/tanto shebang through a shell) so that the PID is the engine's.
    return spawn(process.execPath, [TANTO_JS, "engine", "--root", root, "--config", configFile, "--addr", `unix://${socket}`], {
      stdio: ["ignore", out, out],
      env,
    });
  } finally {
    fs.closeSync(out);
  }
}

/** Poll /v1/health every `everyMs` until it answers; fail early if the engine exits. */
export async function waitHealthy(engine, socket, { timeoutMs = 30_000, everyMs = 2, logFile }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (engine.exitCode !== null || engine.signalCode !== null) {
      throw new Error(`the engine exited (${engine.signalCode ?? engine.exitCode}) before answering; see ${logFile}:\n${tail(logFile)}`);
    }
    try {
      return await engineGet(socket, "/v1/health");
    } catch {
      if (performance.now() > deadline) throw new Error(`the engine did not answer within ${timeoutMs} ms; see ${logFile}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/**
 * A further engine named `name` with engine.toml `toml` (the bench's registry is added), its
 * files under `dir`, healthy and with a session open; both stopped by `cleanup` at the latest.
 * Returns {engine, session, socket, logFile, stop()}: stop() ends the session and the engine
 * and returns the engine's exit code (SIGKILL after `stopGraceMs`).
 */
export async function launchEngine({ dir, name, registryHost, toml, cleanup, env, stopGraceMs = 10_000 }) {
  const files = {
    root: path.join(dir, `engine-${name}-root`),
    configFile: path.join(dir, `engine-${name}.toml`),
    socket: path.join(dir, `engine-${name}.sock`),
    logFile: path.join(dir, `engine-${name}.log`),
  };
  fs.writeFileSync(files.configFile, `[registry."${registryHost}"]\nhttp = true\n${toml}`);
  const engine = startEngine({ ...files, ...(env ? { env } : {}) });
  cleanup.defer(`engine ${name}`, () => stopChild(engine, stopGraceMs));
  await waitHealthy(engine, files.socket, { logFile: files.logFile });
  const session = await openSession({ socket: files.socket, logFile: path.join(dir, `session-${name}.log`) });
  cleanup.defer(`session ${name}`, () => stopChild(session.child));
  const stop = async () => {
    await stopChild(session.child);
    return stopChild(engine, stopGraceMs);
  };
  return { engine, session, socket: files.socket, logFile: files.logFile, root: files.root, stop };
}

/**
 * A session the way the SDK gets one: `tanto session` as a child, its first stdout line is
 * `{port, session_token}`. Keep its stdin open (closing it ends the session) and send its
 * progress output to a file (an undrained pipe would block it).
 */
export async function openSession({ socket, logFile, cwd = process.cwd() }) {
  const out = fs.openSync(logFile, "a");
  // `cwd` bounds what the engine may read of this machine through host().
  const child = spawn(process.execPath, [TANTO_JS, "session"], {
    cwd,
    stdio: ["pipe", "pipe", out],
    env: { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `unix://${socket}` },
  });
  fs.closeSync(out);
  const first = await new Promise((resolve, reject) => {
    let buf = "";
    const onData = (c) => {
      buf += c;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        child.stdout.off("data", onData);
        resolve(buf.slice(0, nl));
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.once("exit", (code) => reject(new Error(`tanto session exited (${code}) before printing its port; see ${logFile}:\n${tail(logFile)}`)));
    child.once("error", reject);
  });
  child.stdout.resume(); // nothing more is expected there; never let it fill up
  const { port, session_token: token } = JSON.parse(first);
  return { child, port, token, url: `http://127.0.0.1:${port}/query`, auth: "Basic " + Buffer.from(token + ":").toString("base64") };
}

/**
 * Run `fn` with the official SDK's global `dag` pointed at `session`, in this process: setting
 * DAGGER_SESSION_PORT/TOKEN is exactly what `tanto run` does for a child program, and the SDK
 * reads them anew on each `connection()`.
 */
export async function withSdk(session, fn) {
  process.env.DAGGER_SESSION_PORT = String(session.port);
  process.env.DAGGER_SESSION_TOKEN = session.token;
  const { connection, dag } = await import("@dagger.io/dagger");
  let result;
  await connection(async () => {
    result = await fn(dag);
  });
  return result;
}

/** POST a GraphQL document to a session, as the SDK does; throws on any GraphQL error. */
export async function query(session, document) {
  const res = await fetch(session.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: session.auth },
    body: JSON.stringify({ query: document }),
  });
  const body = await res.json();
  if (!res.ok || body.errors?.length) throw new Error(`query failed (${res.status}): ${JSON.stringify(body.errors ?? body)}\n  ${document}`);
  return body.data;
}

/** A 20-step chain `withExec(args)` per step (`args(step)`) under a `BENCH=value` root, ending in `stdout`. */
export function chainDocument(image, value, steps, args) {
  let inner = "stdout";
  for (let step = steps - 1; step >= 0; step--) inner = `withExec(args: ${JSON.stringify(args(step))}) { ${inner} }`;
  return `{ container { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${value}") { ${inner} } } } }`;
}
