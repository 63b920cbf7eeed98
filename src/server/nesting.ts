/**
 * Serves nested clients (privileged nesting) for the exec op. Per exec: a
 * random token, a private HTTP server on a unix socket under the engine's
 * run directory, and a relay that listens on 127.0.0.1:<port> inside the
 * container's network namespace and forwards to that socket. The process
 * gets DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN and talks to it as the
 * SDKs talk to `tanto session`: `POST /query` with
 * `Authorization: Basic base64(token + ":")`. Closing stops the relay (and
 * its forked connections), closes the server (the token dies with it) and
 * cancels the nested session's pending work.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as path from "node:path";
import type { Session } from "../core/types.js";
import { FailedPreconditionError, messageOf } from "../errors.js";
import { readJson, sendJson } from "../http/json.js";
import { killLeftoverRelays, startRelay } from "../network/relay.js";
import type { NestedClient, NestingHost, NestingSpec } from "../ops/nesting.js";
import type { BuiltSchema } from "../schema/build.js";
import { parseRequest, runQuery } from "../schema/run-query.js";
import type { SolveContext } from "../solver/types.js";
import type { Engine } from "./engine.js";
import { NestedSession } from "./nested-session.js";

export interface NestingServerOptions {
  runDir: string;
  coreSchema: () => BuiltSchema;
  /** Prepares a new nested session before its first query (e.g. binds a module function call). */
  configure?: (session: NestedSession) => void;
}

export class NestingServer implements NestingHost {
  #engine: Pick<Engine, "deps" | "log"> | undefined;
  constructor(private readonly opts: NestingServerOptions) {}

  /** Relays and sockets a crashed engine left (before the run directory is reused). */
  static async repair(runDir: string): Promise<number> {
    const dir = path.join(runDir, "nesting");
    const killed = await killLeftoverRelays(dir);
    await fs.rm(dir, { recursive: true, force: true });
    return killed;
  }

  /** The engine is made after its exec runner: it is attached once it exists. */
  attach(engine: Pick<Engine, "deps" | "log">): void {
    this.#engine = engine;
  }

  async open(req: { netnsPath: string; rootfs: string; ctx: SolveContext; spec: NestingSpec; signal?: AbortSignal }): Promise<NestedClient> {
    const engine = this.#engine;
    const parent = req.ctx.session as Session | undefined;
    if (!engine || !parent?.host) throw new FailedPreconditionError("privileged nesting needs a client session");
    const session = new NestedSession(parent, this.opts.coreSchema, req.spec, req.rootfs);
    this.opts.configure?.(session);
    const token = randomBytes(24).toString("hex");
    const expected = Buffer.from(`Basic ${Buffer.from(`${token}:`).toString("base64")}`);
    const server = http.createServer((rq, rs) => {
      const got = Buffer.from(rq.headers.authorization ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        rq.resume();
        return sendJson(rs, 401, { errors: [{ message: "missing or wrong session token (Authorization: Basic base64(token:))" }] });
      }
      const url = new URL(rq.url ?? "/", "http://nested");
      if (rq.method !== "POST" || url.pathname !== "/query") {
        rq.resume();
        return sendJson(rs, 404, { errors: [{ message: `no such endpoint ${rq.method} ${url.pathname}: use POST /query` }] });
      }
      serveQuery(engine, session, rq, rs).catch((err: unknown) => {
        engine.log.error("nested query failed", { error: messageOf(err) });
        if (!rs.headersSent) sendJson(rs, 500, { errors: [{ message: messageOf(err) }] });
        else rs.destroy();
      });
    });
    // SDKs keep connections open between requests, however long the code between them runs: the
    // server must not close an idle one (the next request on it would fail), nor time out a long call.
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    const dir = path.join(this.opts.runDir, "nesting");
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const socketPath = path.join(dir, `${randomBytes(8).toString("hex")}.sock`);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    const closeServer = async (): Promise<void> => {
      session.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(socketPath, { force: true });
    };
    let relay: Awaited<ReturnType<typeof startRelay>>;
    try {
      relay = await startRelay({ netnsPath: req.netnsPath, socketPath, ...(req.signal ? { signal: req.signal } : {}) });
    } catch (err) {
      await closeServer();
      throw err;
    }
    let closed: Promise<void> | undefined;
    return {
      env: [`DAGGER_SESSION_PORT=${relay.port}`, `DAGGER_SESSION_TOKEN=${token}`],
      result: () => session.result,
      close: () =>
        (closed ??= (async () => {
          await relay.stop();
          await closeServer();
        })()),
    };
  }
}

async function serveQuery(engine: Pick<Engine, "deps">, session: NestedSession, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const request = parseRequest(await readJson(req));
  if (typeof request === "string") return sendJson(res, 400, { errors: [{ message: request }] });
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  let schema: BuiltSchema;
  try {
    schema = session.schema.current;
  } catch (err) {
    return sendJson(res, 200, { errors: [{ message: messageOf(err) }] });
  }
  const result = await runQuery(schema, request, { deps: engine.deps, session, signal: AbortSignal.any([abort.signal, session.signal]) });
  sendJson(res, 200, result);
}
