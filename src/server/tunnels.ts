/**
 * Tunnels from the client's machine to services on tanto's network. The
 * client listens on its 127.0.0.1 (asked to by a `tunnel.listen` call) and,
 * for each connection it accepts, opens an HTTP upgrade to
 * `/v1/sessions/:sid/tunnels/:tid/:port`; the engine connects to the
 * service and splices the two sockets.
 */
import type { IncomingMessage } from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";

import type { TunnelTarget } from "../http/client-host.js";

export function handleTunnelUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: TunnelTarget | undefined, port: number): void {
  const fail = (status: string): void => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  };
  if (!target) return fail("404 Not Found");
  if (!target.ports.has(port)) return fail("403 Forbidden");
  const upstream = net.connect({ host: target.host, port });
  upstream.once("connect", () => {
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: tanto-tunnel\r\nConnection: Upgrade\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on("error", () => (upstream.readyState === "opening" ? fail("502 Bad Gateway") : socket.destroy()));
  socket.on("error", () => upstream.destroy());
  socket.once("close", () => upstream.destroy());
  upstream.once("close", () => socket.destroy());
  void req;
}
