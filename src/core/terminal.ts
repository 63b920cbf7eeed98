/**
 * Interactive terminals into a pipeline's state, as Dagger opens them:
 * `Container.terminal` runs a command (the container's default terminal
 * command, else `sh`) on a fresh container of that state, on the client's
 * own terminal, and returns when it exits — whatever its exit code, which
 * the client shows; nothing it changes is kept. `Directory.terminal` does
 * the same in a container with the directory mounted at /src (its working
 * directory); `Service.terminal` execs the command in the running service.
 *
 * The container is built first, so that progress is done before the
 * terminal takes the screen; the client's TTY comes through the session
 * (ClientHost.openTerminal), so this works the same with a remote engine.
 */
import { FailedPreconditionError } from "../errors.js";
import type { ClientTerminal } from "../http/terminal-protocol.js";
import { type Container, withExec } from "./container.js";
import { solveContext, syncContainer } from "./evaluate.js";
import type { Service } from "./service.js";
import { serviceRecipe } from "./service-run.js";
import type { RequestContext } from "./types.js";
import type { Directory } from "./values.js";

/** The image of a directory's terminal when no container is given (Dagger's choice too). */
export const DEFAULT_TERMINAL_IMAGE = "alpine";

export interface TerminalArgs {
  cmd?: string[];
  experimentalPrivilegedNesting?: boolean;
  insecureRootCapabilities?: boolean;
}

/** The shell prompt in a terminal: where you are, like Dagger's `dagger ~/src $`. */
const PS1 = 'tanto $(pwd | sed "s|^$HOME|~|") $ ';

/** Unset arguments come from the container's default terminal command; the command falls back to `sh`. */
export function terminalDefaults(c: Container, args: TerminalArgs): Required<TerminalArgs> {
  const d = c.state.defaultTerminalCmd;
  const cmd = args.cmd?.length ? args.cmd : d?.args.length ? d.args : ["sh"];
  return {
    cmd,
    experimentalPrivilegedNesting: args.experimentalPrivilegedNesting ?? d?.experimentalPrivilegedNesting ?? false,
    insecureRootCapabilities: args.insecureRootCapabilities ?? d?.insecureRootCapabilities ?? false,
  };
}

export async function containerTerminal(ctx: RequestContext, c: Container, given: TerminalArgs): Promise<void> {
  const args = terminalDefaults(c, given);
  await syncContainer(ctx, c);
  await withClientTerminal(ctx, args.cmd, async (terminal, signal) => {
    let ready = c.withEnvVariable("PS1", PS1);
    if (c.envVariable("TERM") === undefined) ready = ready.withEnvVariable("TERM", terminal.size.term);
    const exec = withExec(ready, {
      args: args.cmd,
      expect: "ANY",
      ...(args.insecureRootCapabilities ? { insecureRootCapabilities: true } : {}),
      ...(args.experimentalPrivilegedNesting ? { nesting: {} } : {}),
    }).state.lastExec!;
    return ctx.deps.services.runInteractive(exec, { ...solveContext(ctx), signal }, terminal.asProcessTerminal());
  });
}

/** A container (by default `alpine`) with the directory mounted read-only at /src, its working directory (as Dagger mounts it). */
export function directoryTerminalContainer(base: Container, d: Directory): Container {
  return base.with({ workdir: "/src" }).withMount({ target: "/src", type: "dir", source: d.source, path: d.path, readOnly: true });
}

export async function serviceTerminal(ctx: RequestContext, s: Service, cmd: string[]): Promise<void> {
  if (s.spec.kind !== "container") throw new FailedPreconditionError(`a "${s.spec.kind}" service has no container to open a terminal in`);
  const args = cmd.length > 0 ? cmd : ["sh"];
  await withClientTerminal(ctx, args, (terminal, signal) => {
    const env = [`PS1=${PS1}`, `TERM=${terminal.size.term}`];
    return ctx.deps.services.execInteractive(serviceRecipe(s, ctx.session.id), { ...solveContext(ctx), signal }, args, env, terminal.asProcessTerminal());
  });
}

/**
 * Borrow the client's terminal around `run`, which resolves with the
 * process's exit code: a banner first, the exit code to the client at the
 * end; the process is stopped if the client hangs up.
 */
async function withClientTerminal(ctx: RequestContext, cmd: string[], run: (terminal: ClientTerminal, signal: AbortSignal) => Promise<number>): Promise<void> {
  const hangUp = new AbortController();
  const signal = AbortSignal.any([ctx.signal, hangUp.signal]);
  const terminal = await ctx.session.host.openTerminal(signal);
  void terminal.closed.then(() => hangUp.abort(new FailedPreconditionError("the client closed the terminal")));
  terminal.write(`\x1b[33m●\x1b[0m Attaching terminal: ${cmd.join(" ")}\r\n`);
  let exitCode: number;
  try {
    exitCode = await run(terminal, signal);
  } catch (err) {
    terminal.destroy();
    throw err;
  }
  await terminal.close(exitCode);
}
