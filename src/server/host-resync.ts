/**
 * Client content an ID names but this engine does not hold: a live session
 * of the same client (the asking one first) sends it again.
 */
import type { Session } from "../core/types.js";
import { FailedPreconditionError } from "../errors.js";
import type { HostMirrors } from "../hostsync/host-mirror.js";
import type { HostResync } from "../ops/host-dir-op.js";

export function hostResync(mirrors: HostMirrors, sessionsOf: (client: string) => Session[]): HostResync {
  return async (op, ctx) => {
    const asking = ctx.session as Session | undefined;
    const { client, ...params } = op.origin;
    const session = asking?.clientKey === client ? asking : sessionsOf(client)[0];
    if (!session) {
      throw new FailedPreconditionError(
        `host path "${params.path}" of client ${client} (content ${op.digest}) is not held by this engine, and no session of that client is connected to send it: load it again with host().${op.type === "dir" ? "directory" : "file"}() from that client`,
      );
    }
    const result = await mirrors.sync(session.host, session.clientKey, params, ctx.signal);
    return result.digest;
  };
}
