/**
 * JSON request and response helpers shared by the engine and the CLI's
 * session server. Bodies are untrusted: anything that is not a JSON object is
 * a 400, a body over the limit a 413 — refused as soon as its declared or
 * received size passes the limit, with the connection closed after the answer
 * (the rest of the body is never read into memory), so no client waits on a
 * server that stopped listening.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { EngineError, InvalidArgumentError, messageOf } from "../errors.js";

/** Request bodies larger than this are refused. */
export const MAX_BODY = 8 << 20;

/** A body over the limit: HTTP 413. */
export class BodyTooLargeError extends InvalidArgumentError {}

/**
 * Writes values to an NDJSON response, a line each, until it ends (writing after would throw):
 * the lines of one turn of the event loop go out in one write (a cached chain's events come in a
 * burst, a write and a wake-up of the reader each otherwise).
 */
export function ndjsonWriter(res: ServerResponse): (value: unknown) => void {
  const socket = res.socket;
  let corked = false;
  return (value) => {
    if (res.writableEnded || res.destroyed) return;
    if (socket && !corked) {
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    res.write(`${JSON.stringify(value)}\n`);
  };
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** The body as a JSON object (an empty body is `{}`). */
export function readJson(req: IncomingMessage, max = MAX_BODY): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) {
    return Promise.reject(new BodyTooLargeError(`request body of ${declared} bytes is larger than the limit of ${max} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      req.off("data", onData);
      // Keep the socket flowing (discarding) until the answer is written and the connection closed.
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) return fail(new BodyTooLargeError(`request body larger than the limit of ${max} bytes`));
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("error", (err) => fail(new InvalidArgumentError(`request body broke off: ${messageOf(err)}`, { cause: err })));
    req.on("aborted", () => fail(new InvalidArgumentError("request body broke off")));
    req.on("end", () => {
      if (done) return;
      done = true;
      try {
        resolve(parseObject(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function parseObject(bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    // Deeply nested input overflows the parser's stack: still a bad body, not a crash.
    throw new InvalidArgumentError(`request body is not JSON: ${messageOf(err).slice(0, 200)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new InvalidArgumentError(`request body must be a JSON object, not ${kind}`);
  }
  return value as Record<string, unknown>;
}

/** The HTTP status for an error met while handling a request. */
export function statusOf(err: unknown): number {
  if (err instanceof BodyTooLargeError) return 413;
  if (err instanceof InvalidArgumentError) return 400;
  if (err instanceof EngineError && err.code === "NOT_FOUND") return 404;
  if (err instanceof EngineError && err.code === "FAILED_PRECONDITION") return 409;
  return 500;
}

/**
 * Answer a failed request: the status for the error and the body `shape`
 * makes of its message. When the request body was not read to its end the
 * connection is closed after the answer instead of kept alive.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, shape: (message: string) => unknown, status = statusOf(err)): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const unread = !req.complete;
  sendJson(res, status, shape(messageOf(err)));
  if (unread) {
    // Read the rest and drop it, so the client, still sending, gets to read the answer (closing
    // now would break its write first); a client that keeps sending past a second is cut off.
    req.resume();
    const cutOff = setTimeout(() => req.socket.destroy(), 1_000).unref();
    req.once("end", () => clearTimeout(cutOff));
  }
}
