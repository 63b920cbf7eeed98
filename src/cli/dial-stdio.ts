/**
 * `tanto dial-stdio`: splice stdin/stdout to the engine's socket. The other
 * end of the docker-container:// runner host (client/runner-hosts.ts), which
 * runs it with `docker exec -i`: one process per HTTP connection.
 */
import * as net from "node:net";
import { messageOf, UnavailableError } from "../errors.js";
import { DEFAULT_ADDRESS, parseAddress } from "../http/address.js";

export async function dialStdio(opts: { addr?: string }): Promise<void> {
  const url = opts.addr ?? DEFAULT_ADDRESS;
  const addr = parseAddress(url);
  const socket = addr.kind === "unix" ? net.connect(addr.path) : net.connect(addr.port, addr.host);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (err) => reject(new UnavailableError(`no engine answers at ${url}: ${messageOf(err)}`, { cause: err })));
  });
  socket.on("error", (err) => {
    process.stderr.write(`tanto dial-stdio: ${url}: ${messageOf(err)}\n`);
    process.exit(1);
  });
  // The engine closing the connection (an idle keep-alive timeout) ends us;
  // the client closing stdin half-closes towards the engine, which then closes.
  const done = (): void => void process.stdout.end(() => process.exit(0));
  socket.on("end", done);
  socket.on("close", done);
  socket.pipe(process.stdout, { end: false });
  process.stdin.pipe(socket);
  process.stdin.on("error", () => socket.end());
  process.stdout.on("error", () => socket.destroy());
}
