/**
 * Client content an ID names but this engine does not hold: a live session
 * of the same client (the asking one first) sends it again. If that session
 * ends during the transfer, another live session of the client takes over
 * (as BuildKit's session groups do), so a solve that outlives the session
 * that began it can still get the client's files.
 */
import type { Session } from "../core/types.js";
import { FailedPreconditionError } from "../errors.js";
import type { HostMirrors } from "../hostsync/host-mirror.js";
import type { HostResync } from "../ops/host-dir-op.js";

export function hostResync(mirrors: HostMirrors, sessionsOf: (client: string) => Session[]): HostResync {
  return async (op, ctx) => {
    const asking = ctx.session as Session | undefined;
    const { client, ...params } = op.origin;
    const tried = new Set<Session>();
    for (;;) {
      const live = sessionsOf(client).filter((s) => !tried.has(s) && !s.signal.aborted);
      const session = asking?.clientKey === client && !tried.has(asking) && !asking.signal.aborted ? asking : live[0];
      if (!session) {
        throw new FailedPreconditionError(
          `host path "${params.path}" of client ${client} (content ${op.digest}) is not held by this engine, and no session of that client is connected to send it: load it again with host().${op.type === "dir" ? "directory" : "file"}() from that client`,
        );
      }
      tried.add(session);
      try {
        const result = await mirrors.sync(session.host, session.clientKey, params, ctx.signal);
        return result.digest;
      } catch (err) {
        // Only the end of the session that was sending is a reason to ask another.
        if (!session.signal.aborted || ctx.signal?.aborted) throw err;
      }
    }
  };
}
