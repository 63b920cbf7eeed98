/**
 * `Executor` on runc. One `runc run` per container, in the foreground and in
 * non-terminal mode: runc hands the process pipes of its own and copies them
 * to ours, and exits with the process's status after deleting the container.
 * No console socket, no state polling: one spawn per run on the happy path.
 * (`--detach` would give the process our pipes directly, but then nobody
 * could report its exit status.)
 *
 * Everything runc knows lives under `root` (its --root), which belongs to this
 * engine alone, so `cleanup()` may delete whatever it finds there. Bundles
 * (config.json, exec process files, runc's own log) live in `bundleDir/<id>`
 * and are removed when the container is.
 *
 * runc's own errors go to a JSON log file (`--log`) as well as to stderr, so
 * after a non-zero exit we can tell "the process failed" from "runc failed"
 * without parsing the container's stderr.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CancelledError, EngineError, FailedPreconditionError, InvalidArgumentError, messageOf, UnavailableError } from "../errors.js";
import { hostSpawn } from "../host-spawn.js";
import { generateProcess, generateSpec, type Rlimit } from "../oci/runtime-spec.js";
import { heldCapabilities } from "./host-capabilities.js";
import { readHostNofile } from "./host-limits.js";
import { hostSeccompArchitectures } from "./host-seccomp.js";
import { attachPipes } from "./pipe-attach.js";
import { attachTerminal } from "./pty-attach.js";
import type { Executor, ExitStatus, ProcessIO, ProcessSpec, RunSpec } from "./types.js";

export interface RuncExecutorOptions {
  runcPath?: string;
  /** runc's --root state directory; must be private to this engine. */
  root: string;
  /** Parent directory of the per-container bundle directories. */
  bundleDir: string;
  /** Host path of a static init binary to run as PID 1; `false` runs the process itself as PID 1. */
  initPath?: string | false;
  /** Open-files limit asked for in containers; lowered to the engine's own hard limit, which runc cannot exceed. */
  rlimitNofile?: Rlimit;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_NOFILE: Rlimit = { soft: 1048576, hard: 1048576 };
/** runc's own rule for container ids; it also keeps ids safe as path components. */
const ID_RE = /^[\w+.-]+$/;
/** How long to keep retrying `runc kill` while runc is still creating the container, before killing runc itself. */
const KILL_DEADLINE_MS = 10_000;

interface RuncResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface Running {
  controller: AbortController;
  done: Promise<unknown>;
  execSeq: number;
  /** Extra processes carry the container's privileges. */
  insecure: boolean;
}

export class RuncExecutor implements Executor {
  readonly runcPath: string;
  readonly root: string;
  readonly bundleDir: string;
  readonly initPath: string | false;
  readonly #rlimitNofile: Rlimit;
  readonly #running = new Map<string, Running>();
  #hostNofile: Promise<Rlimit> | undefined;

  constructor(opts: RuncExecutorOptions) {
    this.runcPath = opts.runcPath ?? "runc";
    this.root = opts.root;
    this.bundleDir = opts.bundleDir;
    this.initPath = opts.initPath ?? "/usr/bin/tini-static";
    this.#rlimitNofile = opts.rlimitNofile ?? DEFAULT_NOFILE;
  }

  #bundleDirReady: Promise<void> = Promise.resolve();

  /**
   * `ready` settles once bundleDir is prepared (the engine mounts a tmpfs there while it starts):
   * runs wait for it before they write a bundle, and fail with its error; cleanup waits for it to settle.
   */
  bundleDirPreparing(ready: Promise<void>): void {
    ready.catch(() => undefined);
    this.#bundleDirReady = ready;
  }

  run(id: string, spec: RunSpec, io: ProcessIO = {}, opts: { signal?: AbortSignal } = {}): Promise<ExitStatus> {
    if (!ID_RE.test(id)) return Promise.reject(new InvalidArgumentError(`invalid container id "${id}": want letters, digits, "_", "+", "-", "."`));
    if (opts.signal?.aborted) return Promise.reject(new CancelledError(`run of container "${id}" cancelled`, { cause: opts.signal.reason }));
    if (this.#running.has(id)) return Promise.reject(new FailedPreconditionError(`container "${id}" is already running`));

    // An inner controller so that shutdown() can stop runs it did not start.
    const controller = new AbortController();
    const forward = (): void => controller.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", forward, { once: true });
    const entry: Running = { controller, done: Promise.resolve(), execSeq: 0, insecure: spec.insecureRootCapabilities === true };
    this.#running.set(id, entry);
    const done = this.#run(id, spec, io, controller.signal).finally(() => {
      opts.signal?.removeEventListener("abort", forward);
      this.#running.delete(id);
    });
    entry.done = done.catch(() => undefined);
    return done;
  }

  async #run(id: string, spec: RunSpec, io: ProcessIO, signal: AbortSignal): Promise<ExitStatus> {
    const bundle = join(this.bundleDir, id);
    await this.#bundleDirReady;
    // The bundle's few small files are made and removed with synchronous calls, as elsewhere on
    // an exec's path: each is one short system call, where a thread-pool round trip costs more.
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    try {
      const nofile = await this.#cappedNofile();
      const p = spec.process;
      const config = generateSpec({
        rootfs: spec.rootfs,
        args: p.args,
        env: withDefaultPath(p.env),
        cwd: p.cwd,
        uid: p.user.uid,
        gid: p.user.gid,
        additionalGids: p.user.additionalGids,
        mounts: spec.mounts ?? [],
        rlimitNofile: nofile,
        network: spec.network ?? "none",
        seccompArchitectures: hostSeccompArchitectures(),
        ...(spec.hostname === undefined ? {} : { hostname: spec.hostname }),
        ...(spec.readonlyRootfs === undefined ? {} : { readonlyRootfs: spec.readonlyRootfs }),
        ...(spec.cgroupsPath === undefined ? {} : { cgroupsPath: spec.cgroupsPath }),
        ...(spec.insecureRootCapabilities === true ? { insecureRootCapabilities: true, capabilityLimit: heldCapabilities() } : {}),
        ...(this.initPath === false ? {} : { initPath: this.initPath }),
        ...(io.terminal ? { terminal: { rows: io.terminal.rows, cols: io.terminal.cols } } : {}),
      });
      writeFileSync(join(bundle, "config.json"), JSON.stringify(config));
      if (signal.aborted) throw new CancelledError(`run of container "${id}" cancelled`, { cause: signal.reason });

      const log = join(bundle, "runc.log");
      const argv = ["--root", this.root, "--log", log, "--log-format", "json", "run", "--bundle", bundle, id];
      const result = await this.#attachIO(argv, io, signal, (exited) => this.#killContainer(id, exited));
      if (result.aborted) throw new CancelledError(`run of container "${id}" cancelled`, { cause: signal.reason });
      if (result.exitCode === 0) return { exitCode: 0 };
      return { exitCode: await this.#exitCodeAfterFailure(log, "run", id, result.exitCode) };
    } finally {
      // runc keeps its state under --root, not in the bundle.
      rmSync(bundle, { recursive: true, force: true });
      await this.#deleteIfPresent(id);
    }
  }

  async exec(id: string, process: ProcessSpec, io: ProcessIO = {}, opts: { signal?: AbortSignal } = {}): Promise<ExitStatus> {
    const entry = this.#running.get(id);
    if (entry === undefined) throw new FailedPreconditionError(`cannot exec in container "${id}": it is not running`);
    const signal = opts.signal === undefined ? entry.controller.signal : AbortSignal.any([opts.signal, entry.controller.signal]);
    if (signal.aborted) throw new CancelledError(`exec in container "${id}" cancelled`, { cause: signal.reason });

    const base = join(this.bundleDir, id, `exec-${++entry.execSeq}`);
    const processFile = `${base}.json`;
    const pidFile = `${base}.pid`;
    const log = `${base}.log`;
    try {
      const nofile = await this.#cappedNofile();
      const spec = generateProcess({
        args: process.args,
        env: withDefaultPath(process.env),
        cwd: process.cwd,
        uid: process.user.uid,
        gid: process.user.gid,
        additionalGids: process.user.additionalGids,
        rlimitNofile: nofile,
        ...(entry.insecure ? { insecureRootCapabilities: true, capabilityLimit: heldCapabilities() } : {}),
        ...(io.terminal ? { terminal: { rows: io.terminal.rows, cols: io.terminal.cols } } : {}),
      });
      await writeFile(processFile, JSON.stringify(spec));
      const argv = ["--root", this.root, "--log", log, "--log-format", "json", "exec", "--process", processFile, "--pid-file", pidFile, id];
      const result = await this.#attachIO(argv, io, signal, (exited) => killByPidFile(pidFile, exited));
      if (result.aborted) throw new CancelledError(`exec in container "${id}" cancelled`, { cause: signal.reason });
      if (result.exitCode === 0) return { exitCode: 0 };
      return { exitCode: await this.#exitCodeAfterFailure(log, "exec", id, result.exitCode) };
    } finally {
      await Promise.all([processFile, pidFile, log].map((f) => rm(f, { force: true })));
    }
  }

  async signal(id: string, signal: "TERM" | "KILL"): Promise<void> {
    // Before its process starts, a container's PID 1 is runc's own init, which drops the
    // signal: wait until it runs (a run just begun may not even have created it yet).
    const deadline = Date.now() + KILL_DEADLINE_MS;
    for (let delay = 5; this.#running.has(id); delay = Math.min(delay * 2, 100)) {
      const state = await this.#runc(["state", id]);
      const status = state.code === 0 ? (JSON.parse(state.stdout) as { status?: string }).status : undefined;
      if (status === "stopped") return;
      if (status === "running") {
        const r = await this.#runc(["kill", id, signal]);
        if (r.code === 0 || !this.#running.has(id)) return;
        throw new EngineError(`cannot signal container "${id}" with SIG${signal}: ${r.stderr.trim() || `runc exited ${r.code}`}`);
      }
      if (Date.now() > deadline) throw new EngineError(`cannot signal container "${id}": it did not start within ${KILL_DEADLINE_MS / 1000} s`);
      await sleep(delay);
    }
  }

  /** Delete every container under our --root and every bundle left behind (engine start and stop). */
  async cleanup(opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#bundleDirReady.catch(() => undefined);
    const ids = await this.#list();
    for (const id of ids) {
      if (this.#running.has(id)) continue;
      const r = await this.#runc(["delete", "--force", id], opts);
      if (r.code !== 0 && (await exists(join(this.root, id)))) {
        throw new EngineError(`cannot delete container "${id}": ${r.stderr.trim() || `runc exited ${r.code}`}`);
      }
    }
    let bundles: string[] = [];
    try {
      bundles = await readdir(this.bundleDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    for (const name of bundles) {
      // runc's own state may live beside the bundles (bundle-dir.ts).
      if (this.#running.has(name) || join(this.bundleDir, name) === this.root) continue;
      opts.signal?.throwIfAborted();
      await rm(join(this.bundleDir, name), { recursive: true, force: true });
    }
  }

  /** Kill every container this executor runs, wait for their cleanup, then sweep anything left. */
  async shutdown(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const pending = [...this.#running.values()];
    for (const r of pending) r.controller.abort(new CancelledError("executor shutting down"));
    await Promise.all(pending.map((r) => r.done));
    await this.cleanup(opts);
  }

  /** The container ids under our --root. */
  /**
   * The containers runc keeps state for under its --root: a directory each, which is what
   * `runc list` reads too. Read here, so that a start with nothing left over runs no runc at all.
   */
  async #list(): Promise<string[]> {
    try {
      return (await readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  /** A process with a terminal runs runc on a PTY (pty-attach.ts); any other, with pipes. */
  #attachIO(
    argv: string[],
    io: ProcessIO,
    signal: AbortSignal,
    kill: (exited: () => boolean) => Promise<void>,
  ): Promise<{ exitCode: number; aborted: boolean }> {
    return io.terminal ? attachTerminal(this.runcPath, argv, io.terminal, signal, kill) : attachPipes(this.runcPath, argv, io, signal, kill);
  }

  /** `runc kill` until it takes: right after spawn the container may not exist yet. */
  async #killContainer(id: string, exited: () => boolean): Promise<void> {
    const deadline = Date.now() + KILL_DEADLINE_MS;
    for (let delay = 5; !exited(); delay = Math.min(delay * 2, 100)) {
      const r = await this.#runc(["kill", id, "KILL"]);
      if (r.code === 0 || exited()) return;
      if (Date.now() > deadline) throw new EngineError(`cannot kill container "${id}": ${r.stderr.trim()}`);
      await sleep(delay);
    }
  }

  /** After a non-zero exit: the process's code, or runc's failure as an error (or 127/126 when the binary was not runnable). */
  async #exitCodeAfterFailure(log: string, verb: string, id: string, exitCode: number): Promise<number> {
    let text = "";
    try {
      text = await readFile(log, "utf8");
    } catch {
      return exitCode;
    }
    const errors: string[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
        if (entry.level === "error" || entry.level === "fatal") errors.push(String(entry.msg));
      } catch {
        // runc writes one JSON object a line; anything else is not an error report.
      }
    }
    if (errors.length === 0) return exitCode;
    const msg = errors.join("; ");
    // Without an init, runc itself execs the binary; map its complaint to the shell's codes. (runc printed it on stderr already.)
    if (/exec: "[^"]*": .*(executable file not found|no such file or directory)/.test(msg)) return 127;
    if (/exec:? [^:]*: permission denied/.test(msg)) return 126;
    throw new EngineError(`runc ${verb} of container "${id}" failed: ${msg}`);
  }

  async #deleteIfPresent(id: string): Promise<void> {
    // runc run deletes the container itself when its process exits; only a killed runc leaves state behind.
    if (!existsSync(join(this.root, id))) return;
    await this.#runc(["delete", "--force", id]);
  }

  /** A short runc command with captured output. */
  #runc(args: string[], opts: { signal?: AbortSignal } = {}): Promise<RuncResult> {
    return new Promise((resolve, reject) => {
      const child = hostSpawn(this.runcPath, ["--root", this.root, ...args], opts.signal === undefined ? {} : { signal: opts.signal });
      child.stdin.end();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.on("error", (e) =>
        reject(
          e.name === "AbortError"
            ? new CancelledError(`runc ${args[0] ?? ""} cancelled`, { cause: e })
            : new UnavailableError(`cannot start runc "${this.runcPath}": ${messageOf(e)}`, { cause: e }),
        ),
      );
      child.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
    });
  }

  #cappedNofile(): Promise<Rlimit> {
    this.#hostNofile ??= readHostNofile();
    return this.#hostNofile.then((host) => {
      const hard = Math.min(this.#rlimitNofile.hard, host.hard);
      return { soft: Math.min(this.#rlimitNofile.soft, hard), hard };
    });
  }
}

function withDefaultPath(env: string[]): string[] {
  return env.some((e) => e.startsWith("PATH=")) ? env : [...env, DEFAULT_PATH];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** Kill an exec'd process by the host pid runc recorded; the file appears once the process started. */
async function killByPidFile(pidFile: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + KILL_DEADLINE_MS;
  for (let delay = 5; !exited(); delay = Math.min(delay * 2, 100)) {
    let pid = NaN;
    try {
      pid = Number((await readFile(pidFile, "utf8")).trim());
    } catch {
      // Not written yet.
    }
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      return;
    }
    if (Date.now() > deadline) throw new EngineError(`cannot kill exec'd process: no pid in "${pidFile}"`);
    await sleep(delay);
  }
}
