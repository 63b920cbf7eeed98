/**
 * `POST /v1/query` (a session for one request, see server/session-query.ts) over a bare
 * connection, without node:http: what `tanto query` sends most, and on Node.js 20 loading
 * node:http and making its first request take ~12 ms of a ~25 ms command (measured: a script
 * that sends this request through node:http runs 1.29× as long as `node -e ''`, through
 * node:net 1.15×).
 *
 * The request is HTTP/1.0, so the answer needs no decoding: its head, then the NDJSON events
 * as the engine writes them, until it closes the connection (a server answers HTTP/1.0
 * without chunked encoding, and closes after it). The engine's answer is its own format, so
 * what this reads is small: the status line, the session header, lines.
 */
import type { Duplex } from "node:stream";
import { messageOf, UnavailableError } from "../errors.js";
import { ONE_SHOT_RESULT, SESSION_HEADER, type SessionEvent } from "../http/session-protocol.js";

/** The head of an answer: its status and headers (names in lower case). */
export interface AnswerHead {
  status: number;
  headers: Map<string, string>;
}

/** The head at the start of `text` and the offset of its body, or undefined while it is incomplete. */
export function parseHead(text: string): { head: AnswerHead; bodyAt: number } | undefined {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP answer: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { head: { status: Number(m[1]), headers }, bodyAt: end + 4 };
}

/**
 * Send the one-shot request `body` on `conn` (just opened; `url` names the engine in messages).
 * `onEvent` gets the session's id and each event; resolves with the GraphQL response text, or
 * undefined when no engine answered (the connection failed) or it refused the request (an older
 * engine, without the endpoint): the caller then opens a session instead.
 */
export function oneShotQuery(
  conn: Duplex,
  url: string,
  headers: Record<string, string>,
  body: string,
  onEvent: (sessionId: string, e: SessionEvent) => void,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body, "utf8");
    const requestHeaders = Object.entries({ ...headers, host: "localhost", "content-length": String(payload.length), connection: "close" })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    // The answer's head until it is whole.
    let head = "";
    let sessionId: string | undefined;
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
      conn.destroy();
    };
    const unreachable = (why: string): UnavailableError => new UnavailableError(`cannot reach the engine at ${url}: ${why}`);
    const lines = lineSplitter((line) => {
      if (settled || sessionId === undefined) return;
      const event = JSON.parse(line) as SessionEvent | { type: typeof ONE_SHOT_RESULT; result: unknown };
      // The last line: the session is over, whatever the connection does next.
      if (event.type === ONE_SHOT_RESULT) return settle(() => resolve(JSON.stringify((event as { result: unknown }).result)));
      onEvent(sessionId, event as SessionEvent);
    });
    conn.setEncoding("utf8");
    conn.on("data", (chunk: string) => {
      try {
        if (sessionId === undefined) {
          head += chunk;
          const parsed = parseHead(head);
          if (parsed === undefined) return;
          if (parsed.head.status !== 200) return settle(() => resolve(undefined));
          const id = parsed.head.headers.get(SESSION_HEADER);
          // The engine is running the request already: going the long way would run it twice.
          if (id === undefined)
            return settle(() =>
              reject(new UnavailableError(`the engine at ${url} answered /v1/query without its ${SESSION_HEADER} header (a proxy in between?)`)),
            );
          sessionId = id;
          lines(head.slice(parsed.bodyAt));
        } else lines(chunk);
      } catch (err) {
        settle(() => reject(unreachable(`its answer is not what tanto expects: ${messageOf(err)}`)));
      }
    });
    conn.on("error", (err: NodeJS.ErrnoException) => {
      if (head === "" && err.syscall === "connect") settle(() => resolve(undefined));
      else settle(() => reject(unreachable(messageOf(err))));
    });
    conn.on("close", () => settle(() => reject(unreachable("the connection closed before the answer"))));
    // Not ended after the request: a server takes a half-closed connection for a client gone.
    conn.write(Buffer.concat([Buffer.from(`POST /v1/query HTTP/1.0\r\n${requestHeaders}\r\n`, "latin1"), payload]));
  });
}

/** A function to feed text as it arrives: calls `onLine` with each whole non-empty line (without its newline). */
export function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let buffered = "";
  return (chunk) => {
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line !== "") onLine(line);
    }
  };
}
