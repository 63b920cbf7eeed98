/** Health checks: a service is up when each of its TCP ports accepts a connection. */
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CancelledError, UnavailableError } from "../errors.js";

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/**
 * Wait until every port answers on `host`. Rejects with what `exited`
 * rejects or resolves to (the process ended first), or after the timeout.
 */
export async function waitForPorts(
  host: string,
  ports: readonly number[],
  opts: { exited: Promise<Error>; timeoutMs: number; signal?: AbortSignal; what: string },
): Promise<void> {
  let ended: Error | undefined;
  void opts.exited.then((e) => (ended = e));
  const deadline = Date.now() + opts.timeoutMs;
  for (const port of ports) {
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      if (opts.signal?.aborted) throw new CancelledError();
      if (ended) throw ended;
      if (await connects(host, port)) break;
      if (ended) throw ended;
      if (Date.now() > deadline) throw new UnavailableError(`${opts.what}: port ${port}/tcp did not open within ${opts.timeoutMs / 1000}s`);
      await sleep(delay);
    }
  }
}
