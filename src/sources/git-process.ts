/**
 * One run of Debian's `git` as a child process: its output collected, killed
 * on abort. Callers give the whole environment (git-local.ts and
 * git-source.ts each run git with no configuration but their own).
 */
import { spawn } from "node:child_process";
import { CancelledError, UnavailableError } from "../errors.js";

export interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function spawnGit(args: readonly string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; signal?: AbortSignal } = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CancelledError());
    const child = spawn("git", args, { stdio: ["ignore", "pipe", "pipe"], env, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const onAbort = (): void => void child.kill("SIGKILL");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(new UnavailableError(`cannot run git: ${e.message}`, { cause: e }));
    });
    child.on("close", (code) => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (opts.signal?.aborted) reject(new CancelledError());
      else resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}
