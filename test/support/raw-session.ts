/**
 * A session driven by hand, for fault injection: the real client library
 * (EngineClient) talks to the engine, but the test decides how each call from
 * the engine is answered — or abandoned half-way, as a client that crashes.
 *
 *   const s = await RawSession.open(url, { "host.write": async (call, s) => … });
 *   const answer = await s.query('{ container { from(address: "…") { id } } }');
 *   s.hangUp();
 */
import { EngineClient } from "../../src/client/engine-client.js";
import type { CallEvent } from "../../src/http/session-protocol.js";

export type CallHandler = (call: CallEvent, session: RawSession) => Promise<void> | void;

export class RawSession {
  readonly client: EngineClient;
  #detach: () => void = () => undefined;
  #ended: Promise<void>;
  #endedResolve!: () => void;

  private constructor(
    readonly id: string,
    client: EngineClient,
  ) {
    this.client = client;
    this.#ended = new Promise((r) => (this.#endedResolve = r));
  }

  static async open(url: string, handlers: Record<string, CallHandler>, labels: Record<string, string> = {}): Promise<RawSession> {
    const client = new EngineClient(url);
    const id = await client.openSession({ "tanto.client.host": "raw-session-test", ...labels });
    const s = new RawSession(id, client);
    s.#detach = client.attachEvents(
      id,
      (event) => {
        if (event.type !== "call") return;
        const handler = handlers[event.method];
        const answered = handler
          ? Promise.resolve(handler(event, s))
          : client.replyCall(id, event.id, { error: `the test client does not answer ${event.method}` });
        answered.catch(() => undefined);
      },
      () => s.#endedResolve(),
    );
    return s;
  }

  /** Run a query; resolves with the parsed GraphQL answer (data and errors). */
  async query(q: string, timeoutMs = 60_000): Promise<{ data?: unknown; errors?: Array<{ message: string }> }> {
    const signal = AbortSignal.timeout(timeoutMs);
    return JSON.parse(await this.client.query(this.id, { query: q }, signal)) as { data?: unknown; errors?: Array<{ message: string }> };
  }

  /** The client process vanishing: its event stream and every connection drop at once. */
  hangUp(): Promise<void> {
    this.#detach();
    this.client.close();
    return this.#ended;
  }
}
