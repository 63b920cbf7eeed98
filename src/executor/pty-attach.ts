/**
 * Running runc on a pseudo-terminal, for processes with a terminal
 * (`process.terminal` in their spec). runc makes the container's console
 * itself and, in the foreground, copies between it and its own stdio — here
 * the slave of a PTY that node-pty opened — after putting that PTY in raw
 * mode. So the bytes typed (a Ctrl-C among them) reach the container's
 * console untouched, where its line discipline turns them into signals for
 * the foreground process group; resizing our PTY sends runc a SIGWINCH, on
 * which runc gives the console the same size; and runc exits with the
 * process's status, as in the piped mode.
 */
import { EngineError, messageOf, UnavailableError } from "../errors.js";
import { onAbortKill } from "./runc-abort.js";
import type { TerminalIO } from "./types.js";

type PtyModule = typeof import("node-pty");
let ptyModule: Promise<PtyModule> | undefined;

/** node-pty is a native addon: loaded on the first terminal, so an engine without it still runs everything else. */
function loadPty(): Promise<PtyModule> {
  ptyModule ??= import("node-pty").catch((err: unknown) => {
    ptyModule = undefined;
    throw new UnavailableError(`interactive terminals need the node-pty addon, which did not load: ${messageOf(err)}`, { cause: err });
  });
  return ptyModule;
}

/**
 * Spawn `runcPath argv` on a new PTY of the terminal's size, copy its output
 * to `term.output` and hand `term.attached` the way in. On abort, `kill` is
 * called with a probe telling whether runc has exited (as for piped runs).
 */
export async function attachTerminal(
  runcPath: string,
  argv: string[],
  term: TerminalIO,
  signal: AbortSignal,
  kill: (exited: () => boolean) => Promise<void>,
): Promise<{ exitCode: number; aborted: boolean }> {
  const { spawn } = await loadPty();
  let child: ReturnType<PtyModule["spawn"]>;
  try {
    // encoding null: output arrives as bytes, never a multi-byte character cut in two and decoded wrong.
    child = spawn(runcPath, argv, {
      name: "xterm",
      cols: term.cols,
      rows: term.rows,
      encoding: null,
      env: { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
  } catch (err) {
    throw new UnavailableError(`cannot start runc "${runcPath}" on a terminal: ${messageOf(err)}`, { cause: err });
  }
  return new Promise((resolve, reject) => {
    let exited = false;
    let callbackError: unknown;

    child.onData((data: string | Buffer) => {
      if (callbackError !== undefined) return;
      try {
        term.output(typeof data === "string" ? Buffer.from(data, "utf8") : data);
      } catch (err) {
        callbackError = err;
      }
    });
    const abort = onAbortKill(
      signal,
      () => exited,
      kill,
      () => child.kill("SIGKILL"),
    );
    child.onExit(({ exitCode, signal: sig }) => {
      exited = true;
      abort.dispose();
      if (callbackError !== undefined) return reject(callbackError);
      resolve({ exitCode: sig ? 128 + sig : exitCode, aborted: abort.aborted });
    });
    try {
      term.attached?.({
        write: (data) => {
          if (!exited) child.write(data);
        },
        resize: (cols, rows) => {
          if (exited) return;
          if (!validSize(cols) || !validSize(rows)) throw new EngineError(`invalid terminal size ${cols}x${rows}: want 1 to 1000 columns and rows`);
          child.resize(cols, rows);
        },
      });
    } catch (err) {
      callbackError = err;
      abort.abortNow();
    }
  });
}

function validSize(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 1000;
}
