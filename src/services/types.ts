/**
 * What the service manager runs, as plain data. The objects of the API
 * (core's Service) are turned into a `ServiceRecipe` above this layer
 * (src/core/service-run.ts), so this layer knows nothing of them:
 *
 *   container: run `exec` (an exec vertex) without committing it, wait for
 *              its TCP ports, register `hostname` on the network.
 *   host:      listen on a bridge address and have the client dial `host`
 *              on its side for each connection.
 *
 * Two recipes with the same `key` in one session are one running instance.
 */
import type { Vertex } from "../solver/types.js";

/** A port a container service exposes; TCP ports are health-checked unless told not to. */
export interface HealthPort {
  port: number;
  protocol: "TCP" | "UDP";
  skipHealthcheck?: boolean;
}

/** A port of a host service: containers connect to `frontend` (default: `backend`), the client dials `backend`. */
export interface HostPortForward {
  frontend?: number;
  backend: number;
}

export type ServiceRecipe =
  | { kind: "container"; key: string; hostname: string; exec: Vertex; ports: readonly HealthPort[] }
  | { kind: "host"; key: string; hostname: string; host: string; ports: readonly HostPortForward[] };

/**
 * Turns an exec's service binding (opaque to the ops that carry it) into the
 * recipe to run for a session; throws when the binding cannot be run.
 */
export type RecipeOf = (binding: unknown, sessionId: string) => ServiceRecipe;

/** What a host service needs from the session: a way to have the client dial out. */
/** Where a started service is reached. */
export interface RunningService {
  hostname: string;
  ip: string;
}
