/**
 * The client's end of interactive terminals (http/terminal-protocol.ts): on
 * `terminal.attach` this process lends its own TTY — raw mode, every byte
 * typed sent to the engine, window size changes too — until the engine
 * reports the exit code or either side hangs up. The progress view stops
 * drawing meanwhile. One terminal at a time: a second waits for the first.
 */
import { FailedPreconditionError } from "../errors.js";
import { FRAME, FrameChannel, resizePayload, type TerminalAttachParams, type TerminalAttachResult } from "../http/terminal-protocol.js";
import type { EngineClient } from "./engine-client.js";

export interface TerminalHooks {
  /** Stop drawing progress; returns the way to start again. */
  suspend?(): () => void;
}

let queue: Promise<unknown> = Promise.resolve();

/** Attach this process's TTY for the engine; resolves with the size once connected (the terminal then runs on). */
export function attachTerminal(
  engine: EngineClient,
  sessionId: string,
  params: TerminalAttachParams,
  hooks: TerminalHooks = {},
): Promise<TerminalAttachResult> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  if (!stdin.isTTY || !stdout.isTTY) {
    return Promise.reject(new FailedPreconditionError("cannot open an interactive terminal: this client's stdin and stdout are not a terminal"));
  }
  return new Promise<TerminalAttachResult>((resolveAttach, rejectAttach) => {
    const turn = queue.then(
      () =>
        new Promise<void>((done) => {
          engine.openUpgrade(`/v1/sessions/${sessionId}/dials/${params.id}`).then(
            (socket) => {
              const resume = hooks.suspend?.() ?? (() => undefined);
              let finished = false;
              // The TTY back as it was, and the exit code shown, before the engine hears that we are done.
              const finish = (exitCode?: number): void => {
                if (finished) return;
                finished = true;
                stdout.off("resize", onResize);
                stdin.off("data", onKeys);
                stdin.setRawMode(false);
                stdin.pause();
                if (exitCode !== undefined) process.stderr.write(`exit ${exitCode}\n`);
                resume();
                done();
              };
              const channel = new FrameChannel(socket, (type, payload) => {
                if (type === FRAME.OUTPUT) stdout.write(payload);
                else if (type === FRAME.EXIT && payload.length === 4) {
                  finish(payload.readInt32BE(0));
                  socket.end();
                }
              });
              const onKeys = (data: Buffer): void => channel.send(FRAME.STDIN, data);
              const onResize = (): void => channel.send(FRAME.RESIZE, resizePayload(stdout.columns, stdout.rows));
              stdin.setRawMode(true);
              stdin.on("data", onKeys);
              stdin.resume();
              stdout.on("resize", onResize);
              socket.on("error", () => socket.destroy());
              socket.once("close", () => finish());
              resolveAttach({ rows: stdout.rows, cols: stdout.columns, term: process.env["TERM"] ?? "xterm" });
            },
            (err: unknown) => {
              rejectAttach(err);
              done();
            },
          );
        }),
    );
    queue = turn;
  });
}
