/** Terminals: arguments in, core/terminal.ts does the work; each returns its parent, as Dagger's do. */
import { Container, fromAddress } from "../../core/container.js";
import type { Service } from "../../core/service.js";
import { containerTerminal, DEFAULT_TERMINAL_IMAGE, directoryTerminalContainer, serviceTerminal, type TerminalArgs } from "../../core/terminal.js";
import type { RequestContext } from "../../core/types.js";
import type { Directory } from "../../core/values.js";
import { formatPlatform, parsePlatform } from "../../oci/platform.js";
import { loadObject } from "../objects.js";
import { type Args, optStr, strList } from "./args.js";

const optBool = (a: Args, k: string): boolean | undefined => (typeof a[k] === "boolean" ? (a[k] as boolean) : undefined);

function terminalArgs(a: Args): TerminalArgs {
  const nesting = optBool(a, "experimentalPrivilegedNesting");
  const insecure = optBool(a, "insecureRootCapabilities");
  return {
    cmd: strList(a, "cmd"),
    ...(nesting === undefined ? {} : { experimentalPrivilegedNesting: nesting }),
    ...(insecure === undefined ? {} : { insecureRootCapabilities: insecure }),
  };
}

export const terminalContainerResolvers = {
  terminal: async (c: Container, a: Args, ctx: RequestContext) => {
    await containerTerminal(ctx, c, terminalArgs(a));
    return c;
  },
  withDefaultTerminalCmd: (c: Container, a: Args) =>
    c.with({
      defaultTerminalCmd: {
        args: strList(a, "args"),
        experimentalPrivilegedNesting: optBool(a, "experimentalPrivilegedNesting") ?? false,
        insecureRootCapabilities: optBool(a, "insecureRootCapabilities") ?? false,
      },
    }),
};

export const terminalDirectoryResolvers = {
  terminal: async (d: Directory, a: Args, ctx: RequestContext) => {
    const given = optStr(a, "container");
    const base = given
      ? (loadObject(given, "Container") as Container)
      : await fromAddress(Container.empty(formatPlatform(parsePlatform(ctx.deps.defaultPlatform))), DEFAULT_TERMINAL_IMAGE, ctx);
    await containerTerminal(ctx, directoryTerminalContainer(base, d), terminalArgs(a));
    return d;
  },
};

export const terminalServiceResolvers = {
  terminal: async (s: Service, a: Args, ctx: RequestContext) => {
    await serviceTerminal(ctx, s, strList(a, "cmd"));
    return s;
  },
};
