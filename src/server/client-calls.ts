/**
 * Calls from the engine to a session's client (see http/session-protocol.ts):
 * a call goes out on the event stream; its answer arrives as an HTTP request
 * from the client, whose body the caller reads as a stream.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EngineError, type ErrorCode, messageOf, UnavailableError } from "../errors.js";
import { CALL_STATUS_HEADER, type CallEvent } from "../http/session-protocol.js";

/** An answer being read: `finish` acknowledges it to the client. */
export interface CallReply {
  body: IncomingMessage;
  finish(error?: Error): void;
}

interface Pending {
  resolve(reply: CallReply): void;
  reject(err: Error): void;
  input?: Readable;
}

export class ClientCalls {
  readonly #pending = new Map<string, Pending>();
  constructor(private readonly send: (event: CallEvent) => boolean) {}

  call(method: string, params: unknown, opts: { input?: Readable; signal?: AbortSignal } = {}): Promise<CallReply> {
    const id = randomBytes(8).toString("hex");
    return new Promise<CallReply>((resolve, reject) => {
      // However the call ends, what we were sending with it is no longer wanted:
      // destroying it closes the files and blobs it was reading from.
      const fail = (err: Error): void => {
        opts.signal?.removeEventListener("abort", onAbort);
        opts.input?.destroy();
        reject(err);
      };
      const onAbort = (): void => {
        this.#pending.delete(id);
        fail(new EngineError(`call ${method} cancelled`, { code: "CANCELLED" }));
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (r) => {
          opts.signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: fail,
        ...(opts.input ? { input: opts.input } : {}),
      });
      if (!this.send({ type: "call", id, method, params, hasInput: opts.input !== undefined })) {
        this.#pending.delete(id);
        fail(new UnavailableError(`the session's client is not connected: cannot ${method}`));
      }
    });
  }

  /** A JSON call: resolves with the parsed answer, rejects with the client's error. */
  async callJson<T>(method: string, params: unknown, opts: { input?: Readable; signal?: AbortSignal } = {}): Promise<T> {
    const reply = await this.call(method, params, opts);
    try {
      const chunks: Buffer[] = [];
      for await (const c of reply.body) chunks.push(c as Buffer);
      reply.finish();
      return JSON.parse(Buffer.concat(chunks).toString("utf8")) as T;
    } catch (err) {
      reply.finish(err as Error);
      throw new UnavailableError(`cannot read the client's answer to ${method}: ${messageOf(err)}`, { cause: err });
    } finally {
      opts.input?.destroy();
    }
  }

  /** The client's answer to call `id` (POST). */
  reply(id: string, req: IncomingMessage, res: ServerResponse): void {
    const pending = this.#pending.get(id);
    if (!pending) {
      res.writeHead(404).end();
      req.resume();
      return;
    }
    this.#pending.delete(id);
    if (req.headers[CALL_STATUS_HEADER] === "error") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      // A client gone in the middle of its error still fails the call.
      req.on("error", () => undefined);
      req.on("close", () => {
        if (!req.complete) pending.reject(new UnavailableError(`the client's answer to a call broke off`));
      });
      req.on("end", () => {
        res.writeHead(200).end();
        let message = Buffer.concat(chunks).toString("utf8");
        let code: ErrorCode = "FAILED_PRECONDITION";
        try {
          const parsed = JSON.parse(message) as { message: string; code?: ErrorCode };
          message = parsed.message;
          code = parsed.code ?? code;
        } catch {
          // plain text
        }
        pending.reject(new EngineError(message, { code }));
      });
      return;
    }
    pending.resolve({
      body: req,
      finish: (error) => {
        if (res.headersSent) return;
        res.writeHead(error ? 500 : 200, { "content-type": "application/json" }).end(JSON.stringify(error ? { error: error.message } : {}));
      },
    });
  }

  /** The client fetching call `id`'s input (GET). */
  input(id: string, res: ServerResponse): void {
    const pending = this.#pending.get(id);
    const input = pending?.input;
    if (!pending || !input) {
      res.writeHead(404).end();
      return;
    }
    // Sent once: a second fetch finds nothing rather than a half-read stream.
    delete pending.input;
    res.writeHead(200, { "content-type": "application/octet-stream" });
    // A reader that hangs up tears the input down (pipeline destroys it); the call itself ends with the client's answer.
    pipeline(input, res).catch(() => res.destroy());
  }

  failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}
