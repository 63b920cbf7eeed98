/**
 * Service: a container run for its network ports rather than its result.
 * Its recipe is the exec vertex of its process plus the ports to check and
 * an optional hostname; two equal recipes in one session are one instance.
 */
import { InvalidArgumentError } from "../errors.js";
import { digestHex, digestOf } from "../oci/digest.js";
import type { Vertex } from "../solver/types.js";
import type { ExposedPort } from "./container.js";

export interface PortForward {
  frontend?: number;
  backend: number;
  protocol: "TCP" | "UDP";
}

export type ContainerServicePort = ExposedPort & { skipHealthcheck?: boolean };

export type ServiceSpec =
  | {
      kind: "container";
      exec: Vertex;
      ports: ContainerServicePort[];
      hostname?: string;
    }
  /** A service on the client's machine, reachable from containers (`host().service`). */
  | { kind: "host"; ports: PortForward[]; host: string; hostname?: string }
  /** Another service's ports, forwarded to the client's 127.0.0.1 (`host().tunnel`). */
  | { kind: "tunnel"; upstream: ServiceSpec; ports: PortForward[]; random: boolean };

export class Service {
  readonly typename = "Service";
  constructor(readonly spec: ServiceSpec) {}

  static ofContainer(exec: Vertex, ports: ContainerServicePort[]): Service {
    return new Service({ kind: "container", exec, ports });
  }

  get digest(): string {
    return digestOf(this.spec);
  }

  withHostname(hostname: string): Service {
    return new Service({ ...this.spec, hostname } as ServiceSpec);
  }

  /** The name containers reach it by: its own, or one derived from its recipe and the session. */
  hostnameIn(sessionId: string): string {
    if ("hostname" in this.spec && this.spec.hostname) return this.spec.hostname;
    return `svc-${digestHex(digestOf([this.spec, sessionId])).slice(0, 12)}`;
  }

  execVertex(): Vertex | undefined {
    return this.spec.kind === "container" ? this.spec.exec : undefined;
  }

  toJSON(): unknown {
    return this.spec;
  }
}

/** Throw unless every forward is TCP with ports 1-65535; `what` ends "only TCP …" ("host services are supported", "ports can be tunnelled"). */
export function checkTcpForwards(forwards: readonly PortForward[], what: string): void {
  for (const f of forwards) {
    if (f.protocol !== "TCP") throw new InvalidArgumentError(`only TCP ${what}, not ${f.backend}/${f.protocol.toLowerCase()}`);
    for (const p of [f.backend, f.frontend ?? f.backend]) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new InvalidArgumentError(`invalid port ${p}: want 1 to 65535`);
    }
  }
}
