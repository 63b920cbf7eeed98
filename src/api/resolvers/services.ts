import { type Container, withExec } from "../../core/container.js";
import { encodeId } from "../../core/ids.js";
import { Service } from "../../core/service.js";
import { startService, stopService } from "../../core/service-run.js";
import { openTunnel, portForwards } from "../../core/tunnel.js";
import type { RequestContext } from "../../core/types.js";
import { Port } from "../../core/values.js";
import { InvalidArgumentError } from "../../errors.js";
import { loadObject } from "../objects.js";
import { type Args, bool, expand, optInt, optStr, str, strList } from "./args.js";

const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const serviceArg = (a: Args, k: string): Service => loadObject(str(a, k), "Service") as Service;

export const serviceContainerResolvers = {
  asService: (c: Container, a: Args) => {
    let args = strList(a, "args").map((x) => expand(c, a, x));
    if (args.length === 0) args = [...c.state.entrypoint, ...c.state.defaultArgs];
    else if (bool(a, "useEntrypoint")) args = [...c.state.entrypoint, ...args];
    if (args.length === 0) throw new InvalidArgumentError("asService needs a command: args is empty and the container has no entrypoint or default args");
    const run = withExec(c, {
      args,
      expect: "ANY",
      ...(bool(a, "noInit") ? { noInit: true } : {}),
      ...(bool(a, "insecureRootCapabilities") ? { insecureRootCapabilities: true } : {}),
      ...(bool(a, "experimentalPrivilegedNesting") ? { nesting: {} } : {}),
    });
    return Service.ofContainer(run.state.lastExec!, c.state.exposedPorts);
  },
  withServiceBinding: (c: Container, a: Args) => {
    const alias = str(a, "alias");
    if (!HOSTNAME_RE.test(alias)) throw new InvalidArgumentError(`invalid service alias "${alias}": want a hostname (lowercase letters, digits and "-")`);
    if (c.state.serviceBindings.some((b) => b.alias === alias)) throw new InvalidArgumentError(`duplicate service alias "${alias}"`);
    return c.with({ serviceBindings: [...c.state.serviceBindings, { alias, service: serviceArg(a, "service").spec }] });
  },
};

export const serviceResolvers = {
  id: (s: Service) => encodeId(s),
  hostname: (s: Service, _a: Args, ctx: RequestContext) => (s.spec.kind === "tunnel" ? "localhost" : s.hostnameIn(ctx.session.id)),
  ports: async (s: Service, _a: Args, ctx: RequestContext) => {
    if (s.spec.kind === "container") return s.spec.ports.map((p) => new Port(p.port, p.protocol, p.description, p.skipHealthcheck ?? false));
    if (s.spec.kind === "host") return s.spec.ports.map((p) => new Port(p.frontend ?? p.backend, p.protocol, undefined, false));
    // A tunnel's ports are where it listens on the client: known once it is open (opened here if need be).
    const tunnel = await openTunnel(ctx, new Service(s.spec.upstream), s.spec.ports, s.spec.random);
    return tunnel.ports.map((p) => new Port(p.frontend, "TCP", undefined, false));
  },
  endpoint: async (s: Service, a: Args, ctx: RequestContext) => {
    if (s.spec.kind === "tunnel") {
      const tunnel = await openTunnel(ctx, new Service(s.spec.upstream), s.spec.ports, s.spec.random);
      const want = optInt(a, "port");
      const p = tunnel.ports.find((t) => want === undefined || t.frontend === want || t.backend === want) ?? tunnel.ports[0]!;
      const scheme = optStr(a, "scheme");
      return `${scheme ? `${scheme}://` : ""}localhost:${p.frontend}`;
    }
    const port =
      optInt(a, "port") ??
      (s.spec.kind === "container" ? s.spec.ports[0]?.port : s.spec.kind === "host" ? (s.spec.ports[0]?.frontend ?? s.spec.ports[0]?.backend) : undefined);
    if (port === undefined) throw new InvalidArgumentError("the service exposes no port: pass one to endpoint(port:)");
    const scheme = optStr(a, "scheme");
    const hostPort = `${s.hostnameIn(ctx.session.id)}:${port}`;
    return scheme ? `${scheme}://${hostPort}` : hostPort;
  },
  start: async (s: Service, _a: Args, ctx: RequestContext) => {
    if (s.spec.kind === "tunnel") await openTunnel(ctx, new Service(s.spec.upstream), s.spec.ports, s.spec.random);
    else await startService(ctx, s);
    return encodeId(s);
  },
  sync: async (s: Service, _a: Args, ctx: RequestContext) => {
    await startService(ctx, s);
    return encodeId(s);
  },
  stop: async (s: Service, a: Args, ctx: RequestContext) => {
    await stopService(ctx, s, bool(a, "kill"));
    return encodeId(s);
  },
  up: async (s: Service, a: Args, ctx: RequestContext) => {
    const target = s.spec.kind === "tunnel" ? new Service(s.spec.upstream) : s;
    const tunnel = await openTunnel(ctx, target, portForwards(a["ports"]), bool(a, "random"));
    ctx.session.progress({
      type: "message",
      text: `service ${target.hostnameIn(ctx.session.id)} is up on ${tunnel.ports.map((p) => `127.0.0.1:${p.frontend}`).join(", ")}`,
    });
    // Like `dagger up`: serve until the client goes away.
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    return null;
  },
  withHostname: (s: Service, a: Args) => {
    const hostname = str(a, "hostname");
    if (!HOSTNAME_RE.test(hostname)) throw new InvalidArgumentError(`invalid hostname "${hostname}"`);
    return s.withHostname(hostname);
  },
};

export const serviceHostResolvers = {
  service: (_h: unknown, a: Args) => {
    const ports = portForwards(a["ports"]);
    if (ports.length === 0) throw new InvalidArgumentError("host().service needs at least one port");
    for (const p of ports) {
      if (p.protocol !== "TCP") throw new InvalidArgumentError(`only TCP host services are supported, not ${p.backend}/${p.protocol.toLowerCase()}`);
      for (const n of [p.backend, p.frontend ?? p.backend])
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`invalid port ${n}: want 1 to 65535`);
    }
    return new Service({ kind: "host", ports, host: optStr(a, "host") || "localhost" });
  },
  tunnel: (_h: unknown, a: Args) => {
    const upstream = serviceArg(a, "service");
    // Not native: each port lands on a random port of the client (as in Dagger).
    return new Service({ kind: "tunnel", upstream: upstream.spec, ports: portForwards(a["ports"]), random: !bool(a, "native") });
  },
};
