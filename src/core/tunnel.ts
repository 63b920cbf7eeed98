/**
 * Services seen from the client's machine: `Service.up` and
 * `host().tunnel(service)` forward a service's ports to the client's
 * 127.0.0.1, through the session (the client listens; the engine splices).
 */
import { randomBytes } from "node:crypto";
import { InvalidArgumentError } from "../errors.js";
import type { TunnelListenResult } from "../http/session-protocol.js";
import { checkTcpForwards, type PortForward, type Service } from "./service.js";
import { startService } from "./service-run.js";
import type { RequestContext } from "./types.js";

/** Tunnels already open in a session, by the tunnel service's recipe. */
const opened = new WeakMap<object, Map<string, Promise<TunnelListenResult>>>();

export function openTunnel(ctx: RequestContext, service: Service, ports: readonly PortForward[], random: boolean): Promise<TunnelListenResult> {
  let bySession = opened.get(ctx.session);
  if (!bySession) opened.set(ctx.session, (bySession = new Map()));
  const key = JSON.stringify([service.digest, ports, random]);
  let pending = bySession.get(key);
  if (!pending) {
    pending = open(ctx, service, ports, random);
    bySession.set(key, pending);
    pending.catch(() => bySession.delete(key));
  }
  return pending;
}

async function open(ctx: RequestContext, service: Service, ports: readonly PortForward[], random: boolean): Promise<TunnelListenResult> {
  if (service.spec.kind !== "container") throw new InvalidArgumentError(`cannot tunnel to a service of kind "${service.spec.kind}"`);
  const forwards: readonly PortForward[] =
    ports.length > 0 ? ports : service.spec.ports.filter((p) => p.protocol === "TCP").map((p) => ({ backend: p.port, protocol: "TCP" as const }));
  if (forwards.length === 0) throw new InvalidArgumentError("the service exposes no TCP port to tunnel: give ports");
  checkTcpForwards(forwards, "ports can be tunnelled");
  // Held until the session ends (or stop()), like Dagger's up.
  const running = await startService(ctx, service);
  const id = randomBytes(8).toString("hex");
  ctx.session.tunnels.set(id, { host: running.ip, ports: new Set(forwards.map((f) => f.backend)) });
  return ctx.session.host.listenTunnel(
    { id, ports: forwards.map((f) => ({ backend: f.backend, ...(f.frontend !== undefined ? { frontend: f.frontend } : {}) })), random },
    ctx.signal,
  );
}

/** Parse the API's `[PortForward!]` argument. */
export function portForwards(value: unknown): PortForward[] {
  if (!Array.isArray(value)) return [];
  return value.map((v) => {
    const p = v as { frontend?: number | null; backend: number; protocol?: "TCP" | "UDP" | null };
    return { backend: p.backend, protocol: p.protocol ?? "TCP", ...(typeof p.frontend === "number" ? { frontend: p.frontend } : {}) };
  });
}
