/** Ports on 127.0.0.1 for the servers tests start: a free one, and waiting until one listens. */
import type { ChildProcess } from "node:child_process";
import * as net from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Resolve once `port` accepts a connection; fail naming `what` after 10 s, or as soon as `child` (the server) exits. */
export async function waitForPort(port: number, what: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} not listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
