/**
 * Running services. A service starts when something needs it (an exec that
 * binds it, `start`, `up`), is health-checked on its ports before anyone gets
 * its address, is shared by every user within a session, and stops once
 * nothing uses it (after a short grace period) or when the session ends.
 * Its address is isolated to its session before its container starts (or its
 * host listener opens): another session's containers reach it only by binding.
 *
 *   bind(binding, ctx) ─▶ start once per (session, recipe) ─▶ health check ─▶ DNS name
 *        └─ release() ─▶ last user gone ─▶ grace ─▶ stop: kill, unregister, free
 */
import { randomBytes } from "node:crypto";
import type * as net from "node:net";
import { ExecError, FailedPreconditionError, messageOf } from "../errors.js";
import type { TerminalIO } from "../executor/types.js";
import { type DialingClient, relayToClient } from "../http/client-dial.js";
import { scopedName } from "../network/scope.js";
import type { Network, NetworkNamespace } from "../network/types.js";
import type { ExecOpRunner } from "../ops/exec-op.js";
import type { ExecResultMeta, ServiceBinder } from "../ops/exec-types.js";
import type { Solver } from "../solver/solver.js";
import type { SolveContext, Vertex } from "../solver/types.js";
import { inSpan, newSpanId, sinkForSpan } from "../telemetry/types.js";
import { Semaphore } from "../util/semaphore.js";
import { waitForPorts } from "./health.js";
import type { RecipeOf, RunningService, ServiceRecipe } from "./types.js";

/** How long a stopped service may take to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
/** How long an unused service keeps running, in case another exec binds it. */
const GRACE_MS = 3_000;
const HEALTH_TIMEOUT_MS = 60_000;

interface Instance {
  key: string;
  session: string;
  hostname: string;
  ip: string;
  refs: number;
  /** Held by `start()` until `stop()`. */
  pinned: boolean;
  /** Its session ended while execs (joined by other sessions) still used it: it stops when they are done. */
  orphaned?: boolean;
  /** Graceful: SIGTERM, then SIGKILL after a grace period if still running; `kill`: SIGKILL at once. */
  stop(opts?: { kill?: boolean }): Promise<void>;
  /** The runc container of a container service. */
  containerId?: string;
  graceTimer?: NodeJS.Timeout;
  /** Settles when the service's process ends, for whatever reason: what happened, as an error. */
  ended: Promise<Error>;
}

export class ServiceManager implements ServiceBinder {
  readonly #instances = new Map<string, Promise<Instance>>();
  /** Binds under way (the instance may still be starting), by instance key. */
  readonly #binding = new Map<string, number>();
  #solver: Solver | undefined;

  constructor(
    private readonly deps: {
      exec: () => ExecOpRunner;
      network: Network;
      recipeOf: RecipeOf;
      /** Service containers running at once ([worker.oci] max-services); a service past it waits to start. */
      maxServices?: number;
    },
  ) {
    this.#running = new Semaphore(deps.maxServices ?? Number.MAX_SAFE_INTEGER);
  }
  readonly #running: Semaphore;

  /** Services starting or running, over all sessions. */
  get count(): number {
    return this.#instances.size;
  }

  /** The solver is made after the op runners, this among them. */
  attachSolver(solver: Solver): void {
    this.#solver = solver;
  }

  async bind(binding: unknown, ctx: SolveContext): Promise<{ ip: string; hostname: string; ended: Promise<Error>; release(): Promise<void> }> {
    const recipe = this.deps.recipeOf(binding, sessionOf(ctx));
    const key = `${sessionOf(ctx)}/${recipe.key}`;
    this.#binding.set(key, (this.#binding.get(key) ?? 0) + 1);
    let inst: Instance;
    try {
      inst = await this.#acquire(recipe, ctx);
      inst.refs++;
    } finally {
      const n = (this.#binding.get(key) ?? 1) - 1;
      if (n > 0) this.#binding.set(key, n);
      else this.#binding.delete(key);
    }
    let released = false;
    return {
      ip: inst.ip,
      hostname: inst.hostname,
      ended: inst.ended,
      release: async () => {
        if (released) return;
        released = true;
        this.#unref(inst);
      },
    };
  }

  /** Start and keep running until `stop` or the session's end. */
  async start(recipe: ServiceRecipe, ctx: SolveContext): Promise<RunningService> {
    const inst = await this.#acquire(recipe, ctx);
    inst.pinned = true;
    return { hostname: inst.hostname, ip: inst.ip };
  }

  /** Stop a service now: SIGTERM and a grace period, or with `kill`, SIGKILL at once. */
  async stop(recipeKey: string, sessionId: string, opts: { kill?: boolean } = {}): Promise<void> {
    const key = `${sessionId}/${recipeKey}`;
    const pending = this.#instances.get(key);
    if (!pending) return;
    const inst = await pending.catch(() => undefined);
    if (!inst) return;
    this.#instances.delete(key);
    await inst.stop(opts);
  }

  /**
   * Stop every service of a session; one still bound by a running exec (which
   * another session's solve may be waiting on) stops once that exec is done.
   */
  async endSession(sessionId: string): Promise<void> {
    const mine = [...this.#instances.entries()].filter(([k]) => k.startsWith(sessionId + "/"));
    const binding = new Set(mine.map(([k]) => k).filter((k) => this.#binding.has(k)));
    for (const [key] of mine) this.#instances.delete(key);
    await Promise.all(
      mine.map(async ([key, p]) => {
        const inst = await p.catch(() => undefined);
        if (!inst) return;
        inst.pinned = false;
        if (inst.refs > 0 || binding.has(key) || this.#binding.has(key)) inst.orphaned = true;
        else await inst.stop();
      }),
    );
  }

  async stopAll(): Promise<void> {
    const all = [...this.#instances.values()];
    this.#instances.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.stop()));
  }

  /** Run exec `exec` once on an interactive terminal, its changes dropped; resolves with its exit code. */
  async runInteractive(exec: Vertex, ctx: SolveContext, terminal: TerminalIO): Promise<number> {
    const solver = this.#solver;
    if (!solver) throw new FailedPreconditionError("terminals are not available before the engine is ready");
    const inputs = await Promise.all(exec.inputs.map((i) => solver.solve(i, ctx)));
    const result = await this.deps.exec().launch(exec, inputs, ctx, { commit: false, terminal });
    return (result.meta as unknown as ExecResultMeta).exitCode;
  }

  /** Run `args` on an interactive terminal in a container service of the session, started if it is not running; resolves with the exit code. */
  async execInteractive(recipe: ServiceRecipe, ctx: SolveContext, args: string[], env: string[], terminal: TerminalIO): Promise<number> {
    if (recipe.kind !== "container")
      throw new FailedPreconditionError(`service ${recipe.hostname} runs on the client's machine: there is no container to open a terminal in`);
    const inst = await this.#acquire(recipe, ctx);
    inst.refs++;
    try {
      return await this.deps.exec().execIn(inst.containerId!, recipe.exec, args, env, { terminal }, ctx.signal);
    } finally {
      this.#unref(inst);
    }
  }

  #unref(inst: Instance): void {
    inst.refs--;
    if (inst.refs > 0 || inst.pinned) return;
    if (inst.orphaned) {
      void inst.stop();
      return;
    }
    clearTimeout(inst.graceTimer);
    inst.graceTimer = setTimeout(() => {
      if (inst.refs > 0 || inst.pinned || this.#instances.get(inst.key) === undefined) return;
      this.#instances.delete(inst.key);
      inst.stop().catch(() => undefined); // best effort, like endSession's: a failed stop must not take the engine down
    }, GRACE_MS).unref();
  }

  #acquire(recipe: ServiceRecipe, ctx: SolveContext): Promise<Instance> {
    const session = sessionOf(ctx);
    const key = `${session}/${recipe.key}`;
    let pending = this.#instances.get(key);
    if (!pending) {
      pending = recipe.kind === "host" ? this.#startHostInstance(key, session, recipe, ctx) : this.#startInstance(key, session, recipe, ctx);
      this.#instances.set(key, pending);
      pending.catch(() => this.#instances.delete(key));
    }
    return pending.then((inst) => {
      clearTimeout(inst.graceTimer);
      return inst;
    });
  }

  /**
   * A service on the client's machine: the engine listens on an extra bridge
   * address and has the client dial the real port for each connection.
   */
  async #startHostInstance(key: string, session: string, spec: ServiceRecipe & { kind: "host" }, ctx: SolveContext): Promise<Instance> {
    const client = ctx.session as DialingClient | undefined;
    if (!client?.host) throw new FailedPreconditionError("host services need a client session");
    const hostname = spec.hostname;
    const addr = await this.deps.network.addHostAddress();
    const servers: net.Server[] = [];

    const stop = async (): Promise<void> => {
      await this.deps.network.unregister(scopedName(hostname, session)).catch(() => undefined);
      for (const server of servers) server.close();
      await addr.remove();
    };
    try {
      // Only its session's containers and those binding it reach it; removing the address ends that.
      await this.deps.network.isolate(addr.ip, session);
      for (const forward of spec.ports) {
        const server = relayToClient(client, { host: spec.host, port: forward.backend });
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(forward.frontend ?? forward.backend, addr.ip, resolve);
        });
        servers.push(server);
      }
      await this.deps.network.register(scopedName(hostname, session), addr.ip);
      // Forwarders on the engine: they end only when stopped.
      return { key, session, hostname, ip: addr.ip, refs: 0, pinned: false, stop, ended: new Promise<Error>(() => undefined) };
    } catch (err) {
      await stop();
      throw err;
    }
  }

  async #startInstance(key: string, session: string, spec: ServiceRecipe & { kind: "container" }, ctx: SolveContext): Promise<Instance> {
    const solver = this.#solver;
    if (!solver) throw new FailedPreconditionError("services are not available before the engine is ready");
    const exec = spec.exec;
    const hostname = spec.hostname;
    const what = `service ${hostname} (${(exec.op["args"] as string[]).join(" ")})`;

    // The service outlives the request that started it: it has its own signal.
    const life = new AbortController();
    const { signal: _requestSignal, ...rest } = ctx;
    // A span from start to healthy; the service's output is its log.
    const span = serviceSpan(ctx, what);
    const progress = sinkForSpan(ctx.progress, span.id);
    const serviceCtx: SolveContext = { ...rest, signal: life.signal, span: span.id, ...(progress ? { progress } : {}) };
    const inputs = await Promise.all(exec.inputs.map((i) => solver.solve(i, serviceCtx)));

    let gotNs!: (ns: NetworkNamespace) => void;
    const nsReady = new Promise<NetworkNamespace>((r) => (gotNs = r));
    const containerId = `svc-${randomBytes(6).toString("hex")}`;
    // A place among the running services, taken once its own bindings are up: never held while waiting for them.
    let place: Disposable | undefined;
    const beforeRun = async (): Promise<void> => {
      // Before it runs: only its session's containers and those binding it may reach it.
      await this.deps.network.isolate((await nsReady).ip, session);
      place = await this.#running.acquire(life.signal);
    };
    const runner = this.deps.exec();
    const run = runner.launch(exec, inputs, serviceCtx, { commit: false, hostname, containerId, onNamespace: (ns) => gotNs(ns), beforeRun });
    void run.finally(() => place?.[Symbol.dispose]()).catch(() => undefined);
    const cmd = exec.op["args"] as string[];
    // What ending means, as an error for whoever is still waiting on the service.
    const exited = endingOf(run, cmd, what, "before ready");

    const stop = async (opts: { kill?: boolean } = {}): Promise<void> => {
      await this.deps.network.unregister(scopedName(hostname, session)).catch(() => undefined);
      if (!opts.kill) {
        // As Dagger: SIGTERM first, and SIGKILL only if the process outlives the grace period.
        const ended = run.then(
          () => true,
          () => true,
        );
        const graceful = await runner.executor.signal(containerId, "TERM").then(
          () => Promise.race([ended, sleep(STOP_GRACE_MS).then(() => false)]),
          () => false,
        );
        if (graceful) return;
      }
      life.abort();
      await run.catch(() => undefined);
    };

    try {
      const ns = await Promise.race([nsReady, exited.then((e) => Promise.reject(e))]);
      const ports = spec.ports.filter((p) => p.protocol === "TCP" && !p.skipHealthcheck).map((p) => p.port);
      await inSpan(ctx.progress, span.id, { name: `health check ${hostname} ${ports.map((p) => `tcp/${p}`).join(" ")}`.trimEnd(), kind: "service" }, () =>
        waitForPorts(ns.ip, ports, { exited, timeoutMs: HEALTH_TIMEOUT_MS, signal: life.signal, what }),
      );
      // Only the session's own containers resolve the name (network/scope.ts).
      await this.deps.network.register(scopedName(hostname, session), ns.ip);
      span.end();
      const ended = endingOf(run, cmd, what, "after ready");
      return { key, session, hostname, ip: ns.ip, refs: 0, pinned: false, stop, ended, containerId };
    } catch (err) {
      span.end(err);
      await stop();
      throw err;
    }
  }
}

/** The id of the session a solve belongs to ("engine" for none). */
/** The error a service's end becomes: its exit code and output, or why it could not run. */
function endingOf(run: Promise<{ meta: unknown }>, cmd: string[], what: string, when: "before ready" | "after ready"): Promise<Error> {
  const early = when === "before ready";
  return run.then(
    (r) => {
      const out = r.meta as ExecResultMeta;
      const message = `${what} exited with code ${out.exitCode}${early ? " before it was ready" : ""}: ${tail(out.stdout + out.stderr)}`;
      return new ExecError({ cmd, exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr, message });
    },
    (err: unknown) => new FailedPreconditionError(`${what} ${early ? "failed to start" : "ended"}: ${messageOf(err)}`),
  );
}

function sessionOf(ctx: SolveContext): string {
  return (ctx.session as { id?: string } | undefined)?.id ?? "engine";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function tail(text: string, lines = 10): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** A service's start span: from launch until it is healthy (or failed). */
function serviceSpan(ctx: SolveContext, name: string): { id: string; end(err?: unknown): void } {
  const id = newSpanId();
  const started = performance.now();
  const base = { span: id, ...(ctx.span ? { parent: ctx.span } : {}), name: `start ${name}`, kind: "service" as const };
  ctx.progress?.({ type: "start", ...base, time: Date.now() });
  return {
    id,
    end: (err) => {
      const durationMs = performance.now() - started;
      ctx.progress?.(
        err === undefined
          ? { type: "done", ...base, cached: false, durationMs, time: Date.now() }
          : { type: "error", ...base, durationMs, message: messageOf(err), time: Date.now() },
      );
    },
  };
}
