/** Engine addresses: `unix:///path` or `tcp://host:port`. */
import { InvalidArgumentError } from "../errors.js";

export const DEFAULT_ADDRESS = "unix:///run/tanto/engine.sock";

/** Where clients of a tcp:// engine find its token. */
export const TOKEN_ENV = "TANTO_ENGINE_TOKEN";

export type Address = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export function parseAddress(url: string): Address {
  if (url.startsWith("unix://")) {
    const p = url.slice("unix://".length);
    if (!p.startsWith("/")) throw new InvalidArgumentError(`invalid address "${url}": unix socket path must be absolute`);
    return { kind: "unix", path: p };
  }
  if (url.startsWith("tcp://")) {
    const u = new URL(url);
    const port = Number(u.port);
    if (!u.hostname || !Number.isInteger(port) || port <= 0) throw new InvalidArgumentError(`invalid address "${url}": want tcp://HOST:PORT`);
    return { kind: "tcp", host: u.hostname.replace(/^\[|\]$/g, ""), port };
  }
  throw new InvalidArgumentError(`invalid address "${url}": want unix:///PATH or tcp://HOST:PORT`);
}
