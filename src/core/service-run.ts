/**
 * Running core's Service values: each is turned into the plain recipe the
 * service manager (src/services/) runs, named for the session it runs in.
 * Tunnels are not run themselves: they forward another service's ports to
 * the client (see tunnel.ts).
 */
import { FailedPreconditionError } from "../errors.js";
import type { RunningService, ServiceRecipe } from "../services/types.js";
import { solveContext } from "./evaluate.js";
import { Service, type ServiceSpec } from "./service.js";
import type { RequestContext } from "./types.js";

export function serviceRecipe(service: Service, sessionId: string): ServiceRecipe {
  const spec = service.spec;
  const key = service.digest;
  const hostname = service.hostnameIn(sessionId);
  switch (spec.kind) {
    case "container":
      return { kind: "container", key, hostname, exec: service.execVertex()!, ports: spec.ports };
    case "host":
      return { kind: "host", key, hostname, host: spec.host, ports: spec.ports };
    default:
      throw new FailedPreconditionError(`a "${spec.kind}" service cannot be bound by containers`);
  }
}

/** The recipe of a service binding carried by an exec op (a service spec, checked when its ID was decoded). */
export function bindingRecipe(binding: unknown, sessionId: string): ServiceRecipe {
  return serviceRecipe(new Service(binding as ServiceSpec), sessionId);
}

/** Start a service and keep it running until `stopService` or the session's end. */
export async function startService(ctx: RequestContext, service: Service): Promise<RunningService> {
  return ctx.deps.services.start(serviceRecipe(service, ctx.session.id), solveContext(ctx));
}

/** Stop a service of the session now; nothing happens when it is not running (tunnels never are). */
export function stopService(ctx: RequestContext, service: Service, kill = false): Promise<void> {
  return ctx.deps.services.stop(service.digest, ctx.session.id, { kill });
}

/**
 * Run `fn` with `service` up for the engine's own use (a registry to pull
 * from, a server to download from): the service's address on the engine's
 * network, and its hostname (which only containers resolve).
 */
export async function withBoundService<T>(ctx: RequestContext, service: Service, fn: (bound: { ip: string; hostname: string }) => Promise<T>): Promise<T> {
  if (service.spec.kind !== "container")
    throw new FailedPreconditionError(`a "${service.spec.kind}" service cannot be reached by the engine itself; use a container's asService`);
  const bound = await ctx.deps.services.bind(service.spec, solveContext(ctx));
  try {
    return await fn(bound);
  } finally {
    await bound.release();
  }
}
