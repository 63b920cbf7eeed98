/**
 * Connections carried to the client's machine: the engine accepts a
 * connection, asks the client (through the session) to connect to a host
 * port or unix socket on its side, and pipes the two once the client's end
 * arrives as dial `id`. Used by host services and by `withUnixSocket`.
 */
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import type { ClientHost } from "./client-host.js";
import type { TunnelDialParams } from "./session-protocol.js";

/** A session whose client can dial out and hand the connection back. */
export interface DialingClient {
  readonly dials: Map<string, (clientSide: Duplex) => void>;
  readonly host: Pick<ClientHost, "dial">;
}

/** A server whose every connection is relayed to `target` on the client's side (not yet listening). */
export function relayToClient(client: DialingClient, target: Omit<TunnelDialParams, "id">): net.Server {
  return net.createServer((conn) => {
    conn.on("error", () => conn.destroy());
    const id = randomBytes(8).toString("hex");
    client.dials.set(id, (clientSide) => {
      clientSide.on("error", () => conn.destroy());
      conn.on("close", () => clientSide.destroy());
      clientSide.on("close", () => conn.destroy());
      conn.pipe(clientSide);
      clientSide.pipe(conn);
    });
    client.host.dial({ ...target, id }).catch(() => {
      client.dials.delete(id);
      conn.destroy();
    });
  });
}
