/**
 * `registryService` of Container.from and publish: a registry that runs as a
 * service of the session, started for one pull or push. Requests for the
 * address's registry go to the service's address on the engine's network, at
 * the address's port (or the service's first port when the address has
 * none), over plain HTTP.
 */
import { InvalidArgumentError } from "../errors.js";
import type { Service } from "./service.js";
import { withBoundService } from "./service-run.js";
import type { RequestContext } from "./types.js";

/** Run `fn` with the service up, given `ip:port` to reach the registry of `domain` at. */
export async function withRegistryService<T>(ctx: RequestContext, service: Service, domain: string, fn: (host: string) => Promise<T>): Promise<T> {
  const spec = service.spec;
  if (spec.kind !== "container")
    throw new InvalidArgumentError(`registryService: a "${spec.kind}" service cannot serve a registry to this engine; use a container's asService`);
  const given = /:(\d+)$/.exec(domain)?.[1];
  const port = given !== undefined ? Number(given) : spec.ports.find((p) => p.protocol === "TCP")?.port;
  if (port === undefined) throw new InvalidArgumentError(`registryService: the address's registry "${domain}" names no port and the service exposes none`);
  return withBoundService(ctx, service, (bound) => fn(`${bound.ip}:${port}`));
}
