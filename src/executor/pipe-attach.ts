/**
 * Running runc with pipes, for processes without a terminal: runc is spawned
 * in the foreground with piped stdio (through the engine's process helper:
 * the engine itself never forks, see host-spawn.ts), `io` is delivered, and
 * the promise settles with runc's exit status, which is the process's.
 * Foreground runc copies between our pipes and its own, and exits only when
 * the process has exited *and* every holder of its stdout/stderr closed
 * them; in a container's pid namespace that is at once, but an exec'd
 * process's background children keep an exec open, as with `docker exec`.
 * On abort, `kill` is called with a probe telling whether runc has exited
 * (as for a terminal, pty-attach.ts).
 */
import { constants as osConstants } from "node:os";
import { messageOf, UnavailableError } from "../errors.js";
import { hostSpawn } from "../host-spawn.js";
import type { ProcessIO } from "./types.js";

/** After a successful kill, how long runc may take to exit before it is killed too (it waits for its stdio copies to end). */
const RUNC_EXIT_GRACE_MS = 2_000;

export function attachPipes(
  runcPath: string,
  argv: string[],
  io: ProcessIO,
  signal: AbortSignal,
  kill: (exited: () => boolean) => Promise<void>,
): Promise<{ exitCode: number; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    // Through the engine's process helper: the engine itself never forks (see host-spawn.ts).
    const child = hostSpawn(runcPath, argv);
    let exited = false;
    let aborted = false;
    let settled = false;
    let callbackError: unknown;
    let graceTimer: NodeJS.Timeout | undefined;

    const deliver = (cb: ((chunk: Buffer) => void) | undefined) => (chunk: Buffer) => {
      if (cb === undefined || callbackError !== undefined) return;
      try {
        cb(chunk);
      } catch (err) {
        callbackError = err;
      }
    };
    child.stdout.on("data", deliver(io.stdout));
    child.stderr.on("data", deliver(io.stderr));
    // The process may exit without reading its stdin; that EPIPE is not our error.
    child.stdin.on("error", () => undefined);
    if (io.stdin === undefined) child.stdin.end();
    else child.stdin.end(io.stdin);

    const onAbort = (): void => {
      if (aborted || exited) return;
      aborted = true;
      // If the kill does not end runc (or fails), kill runc itself; the caller's cleanup deletes what it leaves.
      const killRunc = (): void => {
        if (!exited) child.kill("SIGKILL");
      };
      kill(() => exited).then(() => {
        graceTimer = setTimeout(killRunc, RUNC_EXIT_GRACE_MS);
      }, killRunc);
    };
    signal.addEventListener("abort", onAbort, { once: true });

    const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      signal.removeEventListener("abort", onAbort);
      if (callbackError !== undefined) return reject(callbackError);
      const exitCode = code ?? 128 + (sig === null ? 0 : (osConstants.signals[sig] ?? 0));
      resolve({ exitCode, aborted });
    };
    child.on("error", (err) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      reject(new UnavailableError(`cannot start runc "${runcPath}": ${messageOf(err)}`, { cause: err }));
    });
    child.on("exit", () => {
      exited = true;
    });
    child.on("close", finish);
  });
}
