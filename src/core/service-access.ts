/**
 * How a service is reached, as the API reports it: its ports and endpoint
 * (a tunnel's are where it listens on the client, known once it is open),
 * a container's binding of it under an alias, and a service of the client's
 * host; with the checks on their names and ports.
 */
import { InvalidArgumentError } from "../errors.js";
import type { Container } from "./container.js";
import { checkTcpForwards, type PortForward, Service } from "./service.js";
import { startService } from "./service-run.js";
import { openTunnel } from "./tunnel.js";
import type { RequestContext } from "./types.js";
import { Port } from "./values.js";

/** A name containers reach a service by: one DNS label, lowercase. */
const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** `host().service(ports, host)`: a service on the client's machine. */
export function hostService(ports: PortForward[], host: string): Service {
  if (ports.length === 0) throw new InvalidArgumentError("host().service needs at least one port");
  checkTcpForwards(ports, "host services are supported");
  return new Service({ kind: "host", ports, host });
}

/** `c` with `service` reachable under `alias` from its execs. */
export function withServiceBinding(c: Container, alias: string, service: Service): Container {
  if (!HOSTNAME_RE.test(alias)) throw new InvalidArgumentError(`invalid service alias "${alias}": want a hostname (lowercase letters, digits and "-")`);
  if (c.state.serviceBindings.some((b) => b.alias === alias)) throw new InvalidArgumentError(`duplicate service alias "${alias}"`);
  return c.with({ serviceBindings: [...c.state.serviceBindings, { alias, service: service.spec }] });
}

export function withServiceHostname(s: Service, hostname: string): Service {
  if (!HOSTNAME_RE.test(hostname)) throw new InvalidArgumentError(`invalid hostname "${hostname}"`);
  return s.withHostname(hostname);
}

function openedTunnel(ctx: RequestContext, s: Service) {
  if (s.spec.kind !== "tunnel") throw new InvalidArgumentError(`service of kind "${s.spec.kind}" is not a tunnel`);
  return openTunnel(ctx, new Service(s.spec.upstream), s.spec.ports, s.spec.random);
}

export async function servicePorts(ctx: RequestContext, s: Service): Promise<Port[]> {
  if (s.spec.kind === "container") return s.spec.ports.map((p) => new Port(p.port, p.protocol, p.description, p.skipHealthcheck ?? false));
  if (s.spec.kind === "host") return s.spec.ports.map((p) => new Port(p.frontend ?? p.backend, p.protocol, undefined, false));
  // A tunnel's ports are where it listens on the client: known once it is open (opened here if need be).
  const tunnel = await openedTunnel(ctx, s);
  return tunnel.ports.map((p) => new Port(p.frontend, "TCP", undefined, false));
}

/** `host:port` (with `scheme://` when given) of `port`, else of the service's first port. */
export async function serviceEndpoint(ctx: RequestContext, s: Service, port: number | undefined, scheme: string | undefined): Promise<string> {
  let hostPort: string;
  if (s.spec.kind === "tunnel") {
    const tunnel = await openedTunnel(ctx, s);
    const p = tunnel.ports.find((t) => port === undefined || t.frontend === port || t.backend === port) ?? tunnel.ports[0]!;
    hostPort = `localhost:${p.frontend}`;
  } else {
    const first = s.spec.kind === "container" ? s.spec.ports[0]?.port : (s.spec.ports[0]?.frontend ?? s.spec.ports[0]?.backend);
    const chosen = port ?? first;
    if (chosen === undefined) throw new InvalidArgumentError("the service exposes no port: pass one to endpoint(port:)");
    hostPort = `${s.hostnameIn(ctx.session.id)}:${chosen}`;
  }
  return scheme ? `${scheme}://${hostPort}` : hostPort;
}

/** `start`: a container or host service started, a tunnel opened. */
export async function startOrOpen(ctx: RequestContext, s: Service): Promise<void> {
  if (s.spec.kind === "tunnel") await openedTunnel(ctx, s);
  else await startService(ctx, s);
}
