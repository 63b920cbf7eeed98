import { type Container, withExec } from "../../core/container.js";
import { encodeId } from "../../core/ids.js";
import { Service } from "../../core/service.js";
import { hostService, serviceEndpoint, servicePorts, startOrOpen, withServiceBinding, withServiceHostname } from "../../core/service-access.js";
import { startService, stopService } from "../../core/service-run.js";
import { openTunnel, portForwards } from "../../core/tunnel.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { loadObject } from "../objects.js";
import { type Args, bool, expand, optInt, optStr, str, strList } from "./args.js";

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
  withServiceBinding: (c: Container, a: Args) => withServiceBinding(c, str(a, "alias"), serviceArg(a, "service")),
};

export const serviceResolvers = {
  id: (s: Service) => encodeId(s),
  hostname: (s: Service, _a: Args, ctx: RequestContext) => (s.spec.kind === "tunnel" ? "localhost" : s.hostnameIn(ctx.session.id)),
  ports: (s: Service, _a: Args, ctx: RequestContext) => servicePorts(ctx, s),
  endpoint: (s: Service, a: Args, ctx: RequestContext) => serviceEndpoint(ctx, s, optInt(a, "port"), optStr(a, "scheme")),
  start: async (s: Service, _a: Args, ctx: RequestContext) => {
    await startOrOpen(ctx, s);
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
  withHostname: (s: Service, a: Args) => withServiceHostname(s, str(a, "hostname")),
};

export const serviceHostResolvers = {
  service: (_h: unknown, a: Args) => hostService(portForwards(a["ports"]), optStr(a, "host") || "localhost"),
  tunnel: (_h: unknown, a: Args) => {
    const upstream = serviceArg(a, "service");
    // Not native: each port lands on a random port of the client (as in Dagger).
    return new Service({ kind: "tunnel", upstream: upstream.spec, ports: portForwards(a["ports"]), random: !bool(a, "native") });
  },
};
