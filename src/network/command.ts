/**
 * Short-lived host commands (ip, iptables, CNI plugins) with captured output.
 * Every network change on the host goes through here, so a failure always
 * reports the command line and what it printed.
 */
import { CancelledError, EngineError, messageOf, UnavailableError } from "../errors.js";
import { hostSpawn } from "../host-spawn.js";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Kill the command after this long; host network commands that hang would hold the engine's shutdown. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Run `cmd` to completion; a non-zero exit is a result, not an error. */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  if (opts.signal?.aborted) return Promise.reject(new CancelledError(`${cmd} cancelled`, { cause: opts.signal.reason }));
  return new Promise((resolve, reject) => {
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS), ...(opts.signal ? [opts.signal] : [])];
    // Through the engine's process helper: the engine itself never forks (see host-spawn.ts).
    const child = hostSpawn(cmd, args, { signal: AbortSignal.any(signals), ...(opts.env === undefined ? {} : { env: opts.env }) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
    child.on("error", (e) => {
      if (e.name !== "AbortError") return reject(new UnavailableError(`cannot run ${cmd}: ${messageOf(e)}`, { cause: e }));
      if (opts.signal?.aborted) return reject(new CancelledError(`${cmd} ${args.join(" ")} cancelled`, { cause: opts.signal.reason }));
      reject(new EngineError(`${cmd} ${args.join(" ")} did not finish within ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`));
    });
    child.on("close", (code, sig) =>
      resolve({
        code: code ?? 128 + (sig === null ? 0 : 9),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/** Run `cmd` and fail with its stderr unless it exits 0; resolves with stdout. */
export async function mustRun(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) {
    throw new EngineError(`${cmd} ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}
