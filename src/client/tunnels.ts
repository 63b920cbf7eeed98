/**
 * The client's end of tunnels: listeners on 127.0.0.1 whose connections are
 * carried to a service through HTTP upgrades to the engine (see
 * server/tunnels.ts). They live as long as this client process.
 */
import * as net from "node:net";
import { UnavailableError } from "../errors.js";
import type { TunnelDialParams, TunnelListenParams, TunnelListenResult } from "../http/session-protocol.js";
import type { EngineClient } from "./engine-client.js";

const listeners: net.Server[] = [];

export async function listenTunnel(engine: EngineClient, sessionId: string, params: TunnelListenParams): Promise<TunnelListenResult> {
  const ports: TunnelListenResult["ports"] = [];
  for (const { frontend, backend } of params.ports) {
    const server = net.createServer((local) => {
      local.on("error", () => local.destroy());
      engine
        .openTunnel(sessionId, params.id, backend)
        .then((remote) => {
          remote.on("error", () => local.destroy());
          local.on("close", () => remote.destroy());
          remote.on("close", () => local.destroy());
          local.pipe(remote);
          remote.pipe(local);
        })
        .catch(() => local.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      // A frontend given is the port to listen on; otherwise a random one, or the backend's own (native).
      server.listen(frontend ? frontend : params.random ? 0 : backend, "127.0.0.1", resolve);
    });
    // Later failures (an accept that fails) concern that connection only.
    server.on("error", () => undefined);
    server.unref();
    listeners.push(server);
    ports.push({ frontend: (server.address() as net.AddressInfo).port, backend });
  }
  return { ports };
}

export function closeTunnels(): void {
  for (const l of listeners.splice(0)) l.close();
}

/** Connect to a port on this machine and hand the connection to the engine (host services). */
export async function dialTunnel(engine: EngineClient, sessionId: string, params: TunnelDialParams): Promise<void> {
  const local = params.socket ? net.connect({ path: params.socket }) : net.connect({ host: params.host, port: params.port });
  const where = params.socket ? `unix socket ${params.socket}` : `${params.host}:${params.port}`;
  await new Promise<void>((resolve, reject) => {
    local.once("connect", resolve);
    local.once("error", (err) => reject(new UnavailableError(`cannot connect to ${where} on the client: ${err.message}`)));
  });
  const remote = await engine.openUpgrade(`/v1/sessions/${sessionId}/dials/${params.id}`).catch((err: unknown) => {
    local.destroy();
    throw err;
  });
  local.on("error", () => remote.destroy());
  remote.on("error", () => local.destroy());
  local.on("close", () => remote.destroy());
  remote.on("close", () => local.destroy());
  local.pipe(remote);
  remote.pipe(local);
}
