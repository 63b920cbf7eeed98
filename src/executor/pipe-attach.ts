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
import { onAbortKill } from "./runc-abort.js";
import type { ProcessIO } from "./types.js";

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
    let settled = false;
    let callbackError: unknown;

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

    // If the kill does not end runc (or fails), runc itself is killed; the caller's cleanup deletes what it leaves.
    const abort = onAbortKill(
      signal,
      () => exited,
      kill,
      () => child.kill("SIGKILL"),
    );

    const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      abort.dispose();
      if (callbackError !== undefined) return reject(callbackError);
      const exitCode = code ?? 128 + (sig === null ? 0 : (osConstants.signals[sig] ?? 0));
      resolve({ exitCode, aborted: abort.aborted });
    };
    child.on("error", (err) => {
      if (settled) return;
      settled = true;
      abort.dispose();
      reject(new UnavailableError(`cannot start runc "${runcPath}": ${messageOf(err)}`, { cause: err }));
    });
    child.on("exit", () => {
      exited = true;
    });
    child.on("close", finish);
  });
}
