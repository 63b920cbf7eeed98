/**
 * Addresses (`Query.address`): one string naming a container image, a
 * directory or file (a client path, a git URL with `#ref[:subdir]`, an HTTP
 * URL), a secret URI, a service (`tcp://host:port`) or a unix socket; each
 * type reads it its own way when selected.
 */
import { InvalidArgumentError } from "../errors.js";

export class Address {
  readonly typename = "Address";
  constructor(readonly value: string) {}
  toJSON(): unknown {
    return { value: this.value };
  }
}

/** Whether `value` names a git repository rather than a client path. */
export function isGitAddress(value: string): boolean {
  return /^(https?|ssh|git):\/\//.test(value) ? /\.git(#|$)|#/.test(value) || /^(ssh|git):/.test(value) : /^[\w.-]+@[\w.-]+:/.test(value);
}

/** `url#ref:subdir` → its parts (ref and subdir optional). */
export function parseGitAddress(value: string): { url: string; ref?: string; subdir?: string } {
  const hash = value.indexOf("#");
  if (hash < 0) return { url: value };
  const url = value.slice(0, hash);
  const rest = value.slice(hash + 1);
  const colon = rest.indexOf(":");
  const ref = colon < 0 ? rest : rest.slice(0, colon);
  const subdir = colon < 0 ? undefined : rest.slice(colon + 1);
  return { url, ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

/** `tcp://host:port` → host and port. */
export function parseServiceAddress(value: string): { host: string; port: number } {
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(value);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError(`address ${JSON.stringify(value)} is not a service address: want tcp://HOST:PORT`);
  return { host: m[1]!, port };
}
