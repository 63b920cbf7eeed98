/**
 * Unix sockets of the client inside an exec (`withUnixSocket`): the engine
 * listens on a socket of its own, bound into the container at the target,
 * and has the client connect to its socket for each connection, carried
 * through the session as host services are. The engine never opens the
 * client's socket itself.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import type * as net from "node:net";
import { FailedPreconditionError } from "../errors.js";
import { resolveUser } from "../executor/user.js";
import { type DialingClient, relayToClient } from "../http/client-dial.js";
import type { Mount as SpecMount } from "../oci/runtime-spec.js";

/** An exec mount forwarding the client's unix socket `path` (of client `client`) to `target`. */
export interface SocketMount {
  target: string;
  type: "socket";
  client: string;
  path: string;
  owner?: string;
}

interface SocketSession extends DialingClient {
  readonly clientKey: string;
}

/**
 * Listen on `listenPath` and carry each connection to the client's unix
 * socket `clientPath` through the session. One connection is made first, so
 * that a socket that is not there fails now with its path named (`what` says
 * who asked).
 */
export async function forwardClientSocket(session: unknown, clientPath: string, listenPath: string, what: string): Promise<net.Server> {
  const client = session as SocketSession | undefined;
  if (!client?.host || !client.dials) throw new FailedPreconditionError(`${what}: unix sockets of the client need a client session`);
  const probe = randomBytes(8).toString("hex");
  client.dials.set(probe, (clientSide) => clientSide.destroy());
  try {
    await client.host.dial({ id: probe, host: "", port: 0, socket: clientPath });
  } catch (err) {
    throw new FailedPreconditionError(`${what}: cannot connect to the client's unix socket ${clientPath}: ${(err as Error).message}`);
  } finally {
    client.dials.delete(probe);
  }
  const server = relayToClient(client, { host: "", port: 0, socket: clientPath });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPath, resolve);
  });
  return server;
}

/** Listen for each socket mount under `dir`; returns the bind mounts and a function closing the listeners. */
export async function forwardSockets(
  mounts: readonly { type: string }[],
  dir: string,
  rootfs: string,
  session: unknown,
): Promise<{ mounts: SpecMount[]; close(): Promise<void> }> {
  const wanted = mounts.filter((m): m is SocketMount => m.type === "socket");
  const servers: net.Server[] = [];
  const close = async () => {
    for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  if (wanted.length === 0) return { mounts: [], close };
  const client = session as SocketSession | undefined;
  if (!client?.host || !client.dials) throw new FailedPreconditionError("unix sockets of the client need a client session");
  await fs.mkdir(dir, { recursive: true });
  const out: SpecMount[] = [];
  try {
    for (const [i, m] of wanted.entries()) {
      if (m.client !== client.clientKey) throw new FailedPreconditionError(`unix socket ${m.path} belongs to another client than this session's`);
      const listenPath = `${dir}/s${i}.sock`;
      const server = await forwardClientSocket(client, m.path, listenPath, `withUnixSocket ${m.target}`);
      servers.push(server);
      await fs.chmod(listenPath, 0o666);
      if (m.owner) {
        const { uid, gid } = await resolveUser(m.owner, rootfs);
        await fs.chown(listenPath, uid, gid);
      }
      out.push({ destination: m.target, type: "bind", source: listenPath, options: ["bind"] });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { mounts: out, close };
}
