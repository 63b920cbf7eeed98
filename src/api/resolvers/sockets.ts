/** Host.unixSocket and Container.withUnixSocket: a socket of the client, forwarded into execs through the session. */
import type { Container } from "../../core/container.js";
import { Socket } from "../../core/extra-values.js";
import type { Host } from "../../core/host.js";
import { encodeId } from "../../core/ids.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { loadObject } from "../objects.js";
import { type Args, containerPath, optStr, str } from "./args.js";

export const socketResolvers = {
  id: (s: Socket) => encodeId(s),
};

export const socketHostResolvers = {
  unixSocket: (_h: Host, a: Args, ctx: RequestContext) => {
    const p = str(a, "path");
    if (p === "" || p.includes("\0")) throw new InvalidArgumentError(`unixSocket: invalid path ${JSON.stringify(p)}`);
    return new Socket(ctx.session.clientKey, p);
  },
};

export const socketContainerResolvers = {
  withUnixSocket: (c: Container, a: Args) => {
    const s = loadObject(str(a, "source"), "Socket") as unknown as Socket;
    const owner = optStr(a, "owner");
    return c.withMount({ target: containerPath(c, a), type: "socket", client: s.client, path: s.path, ...(owner ? { owner } : {}) });
  },
  withoutUnixSocket: (c: Container, a: Args) => {
    const target = containerPath(c, a);
    return c.with({ mounts: c.state.mounts.filter((m) => !(m.type === "socket" && m.target === target)) });
  },
};
