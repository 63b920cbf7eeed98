/**
 * `--interactive` (`-i`) on `tanto run` and `tanto call`, as Dagger has it:
 * when a command fails, the client gets a shell in the state it left — the
 * same root filesystem with its changes, the same mounts, network and user —
 * on its own terminal, before the engine cleans up and reports the failure.
 * The pipeline then fails as it would have.
 */
import type { Executor, RunSpec } from "../executor/types.js";
import type { ClientHost } from "../http/client-host.js";
import type { SolveContext } from "../solver/types.js";

/** A session whose client asked for `-i` (server/sessions.ts). */
interface InteractiveSession {
  readonly interactive?: boolean;
  readonly host?: Pick<ClientHost, "openTerminal">;
}

const PS1 = 'PS1=tanto $(pwd | sed "s|^$HOME|~|") $ ';

export async function debugFailedExec(executor: Executor, id: string, failed: RunSpec, cmd: string[], exitCode: number, ctx: SolveContext): Promise<void> {
  const session = ctx.session as InteractiveSession | undefined;
  if (session?.interactive !== true || !session.host) return;
  const term = await session.host.openTerminal(ctx.signal);
  term.write(`\x1b[31m✘\x1b[0m Exec failed, attaching terminal: ${cmd.join(" ")}\r\n\x1b[33m! exit code ${exitCode}\x1b[0m\r\n`);
  const hangUp = new AbortController();
  void term.closed.then(() => hangUp.abort());
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, hangUp.signal]) : hangUp.signal;
  const env = [...failed.process.env.filter((e) => !e.startsWith("PS1=")), PS1];
  if (!env.some((e) => e.startsWith("TERM="))) env.push(`TERM=${term.size.term}`);
  try {
    const shell = await executor.run(id, { ...failed, process: { ...failed.process, args: ["sh"], env } }, { terminal: term.asProcessTerminal() }, { signal });
    await term.close(shell.exitCode);
  } catch {
    // The shell's own failure (the client hung up) must not hide the command's.
    term.destroy();
  }
}
