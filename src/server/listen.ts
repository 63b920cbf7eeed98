/**
 * Listeners for the engine: `unix:///path` (mode 0660, owned by root) and
 * `tcp://host:port` (only when asked for).
 */
import * as fs from "node:fs/promises";
import type * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { FailedPreconditionError } from "../errors.js";
import type { Address } from "../http/address.js";

export async function listen(server: http.Server, addr: Address): Promise<void> {
  if (addr.kind === "unix") {
    await fs.mkdir(path.dirname(addr.path), { recursive: true, mode: 0o755 });
    if (await socketAnswers(addr.path)) {
      throw new FailedPreconditionError(`another engine is already listening on unix://${addr.path}`);
    }
    // A socket file nobody answers on is left over from a crash.
    await fs.rm(addr.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(addr.path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    await fs.chmod(addr.path, 0o660);
    await fs.chown(addr.path, 0, 0).catch(() => undefined);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socketPath);
    conn.once("connect", () => {
      conn.destroy();
      resolve(true);
    });
    conn.once("error", () => resolve(false));
  });
}
