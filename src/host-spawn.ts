/**
 * Host commands (runc, ip, CNI plugins; mount and umount where the mount
 * addon is not built) started by a small helper process instead of by the
 * engine itself.
 *
 * Why: Node starts a child with fork() + exec(), and its event loop waits in
 * between. fork() copies the page tables of the whole engine, so its cost
 * grows with the engine's memory: on the 2-core benchmark VM, 1 ms for a
 * 44 MB process but 12 ms at 64 MB, 30 ms at 84 MB and 48 ms at 124 MB
 * (median, under load), every one of them blocking every session. An exec
 * started three or four commands (mount, runc, umount, and `ip` to recycle
 * its namespace; now runc alone, see mount/native-mount.ts and
 * network/netns.ts); a burst of 100 execs spent 25 s of the engine's main
 * thread in spawn(). The helper is a bare `node -e` (about 40 MB, nothing
 * else loaded) that forks on the engine's behalf: the engine only writes a
 * line to a pipe.
 *
 * `hostSpawn(cmd, args, opts)` returns a child with the shape of Node's
 * (stdin, stdout, stderr streams; `kill`; `error`, `exit` and `close`
 * events; `signal` aborts it like Node's option does), so callers read it as
 * before. The helper starts on first use and again after it died (its
 * children then fail with an error naming it); it ends with its input, once
 * its children are done, so it never outlives the engine by more than they
 * do. Where it cannot start at all, commands are spawned directly.
 *
 * Wire (newline-delimited JSON both ways; data base64):
 *   engine → helper  {t:"spawn",id,cmd,args,cwd?,env?} {t:"in",id,data} {t:"end",id} {t:"kill",id,sig}
 *   helper → engine  {t:"error",id,code,message} {t:"out",id,fd,data} {t:"exit",id,code,sig}
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { PassThrough, type Readable, Writable } from "node:stream";

/** The helper, as `node -e` source: nothing to find on disk, so it works from a bundle too. */
const HELPER = `
"use strict";
const { spawn } = require("node:child_process");
const children = new Map();
let ended = false;
// What one turn of the loop has to say goes out in one write (a command's output and its exit, say).
let corked = false;
const send = (m) => {
  if (!corked) { corked = true; process.stdout.cork(); setImmediate(() => { corked = false; process.stdout.uncork(); }); }
  process.stdout.write(JSON.stringify(m) + "\\n");
};
const maybeExit = () => { if (ended && children.size === 0) { if (corked) process.stdout.uncork(); process.exit(0); } };
// The engine is gone: its children carry on as they would have without a helper.
process.stdout.on("error", () => process.exit(0));
// A signal to the engine's whole process group (Ctrl-C on \`tanto engine\` in a terminal) is the
// engine's to act on, and its stop still runs commands here (runc, ip): the helper ends with its
// input instead, and its commands run in sessions of their own, out of that group's reach.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => undefined);
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buf += chunk;
  for (let nl = buf.indexOf("\\n"); nl >= 0; nl = buf.indexOf("\\n")) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (line) handle(JSON.parse(line));
  }
});
// The engine is gone: what its children were still to read ends here (a CNI plugin reads its
// config to the end of its input before it acts), so none waits for input forever.
process.stdin.on("end", () => { ended = true; for (const c of children.values()) c.stdin.end(); maybeExit(); });
function handle(m) {
  if (m.t === "spawn") {
    let child;
    try {
      child = spawn(m.cmd, m.args, { cwd: m.cwd, env: m.env || process.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    } catch (e) {
      send({ t: "error", id: m.id, code: e.code, message: String(e.message) });
      return;
    }
    children.set(m.id, child);
    let failed = false;
    child.on("error", (e) => { failed = true; children.delete(m.id); send({ t: "error", id: m.id, code: e.code, message: String(e.message) }); maybeExit(); });
    child.stdin.on("error", () => {});
    child.stdout.on("data", (d) => send({ t: "out", id: m.id, fd: 1, data: d.toString("base64") }));
    child.stderr.on("data", (d) => send({ t: "out", id: m.id, fd: 2, data: d.toString("base64") }));
    child.on("close", (code, sig) => { children.delete(m.id); if (!failed) send({ t: "exit", id: m.id, code, sig }); maybeExit(); });
  } else {
    const child = children.get(m.id);
    if (!child) return;
    if (m.t === "in") child.stdin.write(Buffer.from(m.data, "base64"));
    else if (m.t === "end") child.stdin.end();
    else if (m.t === "kill") { try { child.kill(m.sig); } catch {} }
  }
}
`;

export interface HostSpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting kills the command (SIGTERM) and fails it with an AbortError, as Node's own option does. */
  signal?: AbortSignal;
}

/** What callers use of a child process. */
export interface HostChild extends EventEmitter {
  readonly stdin: Writable;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** Events as Node's: `error` (err), `exit` and `close` (code, signal). */
  kill(signal?: NodeJS.Signals): boolean;
}

interface Message {
  t: string;
  id: number;
  code?: number | string | null;
  sig?: NodeJS.Signals | null;
  message?: string;
  fd?: number;
  data?: string;
}

class RemoteChild extends EventEmitter implements HostChild {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable;
  #done = false;

  constructor(
    readonly id: number,
    private readonly helper: Helper,
  ) {
    super();
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (!this.#done && chunk.length > 0) helper.send({ t: "in", id, data: Buffer.from(chunk).toString("base64") });
        cb();
      },
      final: (cb) => {
        if (!this.#done) helper.send({ t: "end", id });
        cb();
      },
    });
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    if (this.#done) return false;
    this.helper.send({ t: "kill", id: this.id, sig: signal });
    return true;
  }

  /** The command ended (or never started): streams end, then `exit` and `close`, or `error`. */
  finish(m: { code: number | null; sig: NodeJS.Signals | null } | Error): void {
    if (this.#done) return;
    this.#done = true;
    this.stdout.end();
    this.stderr.end();
    if (m instanceof Error) {
      this.emit("error", m);
      return;
    }
    this.emit("exit", m.code, m.sig);
    // After the output is delivered, as Node's `close` comes after the streams end.
    let open = 2;
    const closed = (): void => {
      if (--open === 0) this.emit("close", m.code, m.sig);
    };
    for (const s of [this.stdout, this.stderr]) {
      if (s.readableEnded) closed();
      else {
        s.once("end", closed);
        // Nobody reads it: drain so that `end` comes.
        if (s.listenerCount("data") === 0 && !s.readableFlowing) s.resume();
      }
    }
  }

  deliver(fd: number, data: Buffer): void {
    (fd === 1 ? this.stdout : this.stderr).write(data);
  }
}

class Helper {
  readonly #proc: ChildProcessByStdio<Writable, Readable, null>;
  readonly #children = new Map<number, RemoteChild>();
  #seq = 0;
  #dead = false;
  #corked = false;

  constructor(onDeath: () => void) {
    // Not the engine's stderr: a helper outliving a killed engine (its children still running) must not
    // hold the engine's output open for whoever reads it.
    this.#proc = spawn(process.execPath, ["--max-semi-space-size=1", "-e", HELPER], { stdio: ["pipe", "pipe", "ignore"] });
    this.#proc.unref();
    this.#idle();
    this.#proc.stdin.on("error", () => undefined);
    let buf = "";
    this.#proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line !== "") this.#receive(JSON.parse(line) as Message);
      }
    });
    const die = (why: string): void => {
      if (this.#dead) return;
      this.#dead = true;
      onDeath();
      for (const c of this.#children.values()) c.finish(Object.assign(new Error(`the engine's process helper ${why}`), { code: "EHELPER" }));
      this.#children.clear();
    };
    this.#proc.on("error", (err) => die(`failed: ${err.message}`));
    this.#proc.on("exit", (code, sig) => die(`exited (${sig ?? code})`));
  }

  get dead(): boolean {
    return this.#dead;
  }

  start(cmd: string, args: readonly string[], opts: HostSpawnOptions): RemoteChild {
    const id = ++this.#seq;
    const child = new RemoteChild(id, this);
    this.#children.set(id, child);
    this.#busy();
    const env = opts.env === undefined ? undefined : Object.fromEntries(Object.entries(opts.env).filter(([, v]) => v !== undefined));
    this.send({ t: "spawn", id, cmd, args: [...args], ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }), ...(env ? { env } : {}) });
    return child;
  }

  /**
   * Messages of one turn of the event loop go out in one write: a spawn and the end of its
   * input (sent a tick later) cost the engine and the helper one system call each, not two.
   */
  send(m: Record<string, unknown>): void {
    if (this.#dead) return;
    const stdin = this.#proc.stdin;
    if (!this.#corked) {
      this.#corked = true;
      stdin.cork();
      setImmediate(() => {
        this.#corked = false;
        stdin.uncork();
      });
    }
    stdin.write(`${JSON.stringify(m)}\n`);
  }

  #receive(m: Message): void {
    const child = this.#children.get(m.id);
    if (!child) return;
    if (m.t === "out") child.deliver(m.fd ?? 1, Buffer.from(m.data ?? "", "base64"));
    else if (m.t === "exit" || m.t === "error") {
      this.#children.delete(m.id);
      if (this.#children.size === 0) this.#idle();
      if (m.t === "exit") child.finish({ code: typeof m.code === "number" ? m.code : null, sig: m.sig ?? null });
      else child.finish(Object.assign(new Error(`spawn ${m.message ?? "failed"}`), { code: m.code }));
    }
  }

  /** Keep the engine's event loop alive only while a command runs (a bare helper must not hold a test or CLI process open). */
  #busy(): void {
    (this.#proc.stdout as unknown as { ref(): void }).ref();
    (this.#proc.stdin as unknown as { ref(): void }).ref();
  }

  #idle(): void {
    (this.#proc.stdout as unknown as { unref(): void }).unref();
    (this.#proc.stdin as unknown as { unref(): void }).unref();
  }
}

/**
 * The one helper of the process, shared through a global: the command line starts it before it
 * loads the engine's bundle, which carries a copy of this module of its own.
 */
const HELPER_KEY = Symbol.for("tanto.hostSpawnHelper");
const shared = globalThis as { [HELPER_KEY]?: Helper | undefined };

/** Start `cmd` through the helper (see above); `args` and `opts` as for Node's spawn with piped stdio. */
export function hostSpawn(cmd: string, args: readonly string[], opts: HostSpawnOptions = {}): HostChild {
  const h = liveHelper();
  if (h === undefined) return direct(cmd, args, opts);
  const child = h.start(cmd, args, opts);
  const signal = opts.signal;
  if (signal) {
    const onAbort = (): void => {
      child.kill("SIGTERM");
      child.finish(Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR", cause: signal.reason }));
    };
    if (signal.aborted) queueMicrotask(onAbort);
    else {
      signal.addEventListener("abort", onAbort, { once: true });
      const off = (): void => signal.removeEventListener("abort", onAbort);
      child.once("exit", off);
      child.once("error", off);
    }
  }
  return child;
}

/**
 * Start the helper now (idle, holding nothing open) rather than on the first command: `tanto
 * engine` calls it before it loads the engine, so that the helper's own Node.js start (~40 ms
 * unloaded, far more on a busy host) overlaps the engine's and the first mount or `ip` of its
 * start does not wait for it.
 */
export function startHostSpawnHelper(): void {
  liveHelper();
}

/** The running helper, started if none runs; undefined when commands are to be spawned directly. */
function liveHelper(): Helper | undefined {
  if (process.env["TANTO_DIRECT_SPAWN"] === "1") return undefined;
  const current = shared[HELPER_KEY];
  if (current !== undefined && !current.dead) return current;
  try {
    const h: Helper = new Helper(() => {
      if (shared[HELPER_KEY] === h) shared[HELPER_KEY] = undefined;
    });
    shared[HELPER_KEY] = h;
    return h;
  } catch {
    return undefined;
  }
}

function direct(cmd: string, args: readonly string[], opts: HostSpawnOptions): HostChild {
  return spawn(cmd, [...args], {
    stdio: ["pipe", "pipe", "pipe"],
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  }) as unknown as HostChild;
}
