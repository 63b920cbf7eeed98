/**
 * An interactive terminal between the engine and the client's TTY, as
 * Dagger's terminal attachable does it: the engine asks the client, with the
 * call `terminal.attach` ({ id }), to lend it its terminal; the client puts
 * its TTY in raw mode, opens the upgrade /v1/sessions/:sid/dials/:id and
 * answers the call with the TTY's size and $TERM. From then on both ends
 * send frames on that connection:
 *
 *   client → engine:  STDIN  bytes typed            RESIZE  cols, rows (u16 each)
 *   engine → client:  OUTPUT bytes for the screen    EXIT    exit code (i32), then the engine closes
 *
 * A frame is a type byte, a u32 big-endian length and the payload. Either
 * side hanging up ends the terminal: the client restores its TTY, the engine
 * stops the process.
 */
import type { Duplex } from "node:stream";

export const FRAME = { STDIN: 1, RESIZE: 2, OUTPUT: 17, EXIT: 18 } as const;
/** No frame this large is ever sent; a longer one means the stream is not ours. */
const MAX_FRAME = 1 << 20;

export interface TerminalAttachParams {
  id: string;
}

export interface TerminalAttachResult {
  rows: number;
  cols: number;
  /** The client's $TERM, for a container that sets none. */
  term: string;
}

export function encodeFrame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export function resizePayload(cols: number, rows: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Math.max(1, Math.min(0xffff, cols)), 0);
  b.writeUInt16BE(Math.max(1, Math.min(0xffff, rows)), 2);
  return b;
}

export function exitPayload(code: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(code, 0);
  return b;
}

/** Frames on a byte stream: `send` one, `onFrame` for each whole one received; a malformed stream is destroyed. */
export class FrameChannel {
  #pending: Buffer = Buffer.alloc(0);
  constructor(
    readonly socket: Duplex,
    onFrame: (type: number, payload: Buffer) => void,
  ) {
    socket.on("data", (chunk: Buffer) => {
      this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= 5) {
        const length = this.#pending.readUInt32BE(1);
        if (length > MAX_FRAME) return void socket.destroy(new Error(`terminal frame of ${length} bytes is too large`));
        if (this.#pending.length < 5 + length) break;
        const type = this.#pending.readUInt8(0);
        const payload = this.#pending.subarray(5, 5 + length);
        this.#pending = this.#pending.subarray(5 + length);
        onFrame(type, payload);
      }
    });
  }

  send(type: number, payload: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(encodeFrame(type, payload));
  }
}

/** The engine's end: the client's terminal, as a screen to write to and keystrokes and sizes coming in. */
export class ClientTerminal {
  readonly #channel: FrameChannel;
  /** Keys typed before anyone listens (the process is still starting) wait here. */
  #early: Buffer[] = [];
  #onInput: (data: Buffer) => void = (data) => void this.#early.push(data);
  #onResize: (cols: number, rows: number) => void = () => undefined;
  /** Resolves when the client hangs up (or the terminal was closed). */
  readonly closed: Promise<void>;

  constructor(
    socket: Duplex,
    readonly size: TerminalAttachResult,
  ) {
    this.#channel = new FrameChannel(socket, (type, payload) => {
      if (type === FRAME.STDIN) this.#onInput(payload);
      else if (type === FRAME.RESIZE && payload.length === 4) this.#onResize(payload.readUInt16BE(0), payload.readUInt16BE(2));
    });
    socket.on("error", () => socket.destroy());
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  write(data: Buffer | string): void {
    this.#channel.send(FRAME.OUTPUT, typeof data === "string" ? Buffer.from(data, "utf8") : data);
  }

  onInput(cb: (data: Buffer) => void): void {
    this.#onInput = cb;
    for (const data of this.#early.splice(0)) cb(data);
  }

  onResize(cb: (cols: number, rows: number) => void): void {
    this.#onResize = cb;
  }

  /**
   * Tell the client the exit code and hang up; resolves once the client has
   * shown it and given its TTY back (it closes its end), so that what the
   * engine answers next is never drawn into the terminal.
   */
  async close(exitCode: number, waitMs = 5_000): Promise<void> {
    this.#channel.send(FRAME.EXIT, exitPayload(exitCode));
    this.#channel.socket.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /**
   * What an executor runs a process on (executor/types.ts TerminalIO): this
   * terminal's size and screen, keys typed and new sizes passed on once the
   * process runs. A size out of range is ignored: the terminal keeps its own.
   */
  asProcessTerminal(): {
    rows: number;
    cols: number;
    output(chunk: Buffer): void;
    attached(control: { write(data: Buffer): void; resize(cols: number, rows: number): void }): void;
  } {
    return {
      rows: this.size.rows,
      cols: this.size.cols,
      output: (chunk) => this.write(chunk),
      attached: (control) => {
        this.onInput((data) => control.write(data));
        this.onResize((cols, rows) => {
          try {
            control.resize(cols, rows);
          } catch {
            // Out of range: keep the size.
          }
        });
      },
    };
  }

  /** Hang up without an exit code (the process never ran). */
  destroy(): void {
    this.#channel.socket.destroy();
  }
}
