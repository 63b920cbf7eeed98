/**
 * Object arguments from their flag text, as Dagger's CLI builds them: each
 * becomes a chain of core calls ending in `id`, sent before the call itself;
 * the ID is then inlined as a string (what the SDKs do for object arguments).
 *
 *   Directory   host path (`file://` stripped, `~` expanded) ⇒ host.directory(path, exclude: ignore)
 *               git URL (`https://host/repo#ref:subdir`, `ssh://…`, `git@host:repo`) ⇒ git(…).ref|head.tree.directory
 *   File        host path ⇒ host.file; git URL with a subdir ⇒ git(…).branch|head.tree.file
 *   Container   image address ⇒ container.from
 *   Secret      `NAME` or `env:NAME` ⇒ secret("env://NAME"); `file:P`, `cmd:C`, `scheme://…` likewise
 *   Service     `tcp://host:port` or `udp://…` ⇒ host.service(ports, host)
 *   CacheVolume name ⇒ cacheVolume(key)
 *   Socket      `unix://path` or path ⇒ host.unixSocket(path)
 */
import * as os from "node:os";
import * as path from "node:path";
import { InvalidArgumentError } from "../../errors.js";
import type { Step } from "./graphql.js";

export interface GitAddress {
  remote: string;
  ref: string;
  subdir: string;
}

/** A git URL (with an optional `#ref:subdir` fragment), or undefined for anything else. */
export function parseGitUrl(address: string): GitAddress | undefined {
  const scheme = /^(https?|ssh|git):\/\/[^/]+/.test(address);
  const scp = !scheme && /^[\w.-]+@[\w.-]+:/.test(address);
  if (!scheme && !scp) return undefined;
  const hash = address.indexOf("#");
  const remote = hash < 0 ? address : address.slice(0, hash);
  const fragment = hash < 0 ? "" : address.slice(hash + 1);
  const colon = fragment.indexOf(":");
  return { remote, ref: colon < 0 ? fragment : fragment.slice(0, colon), subdir: colon < 0 ? "" : fragment.slice(colon + 1) };
}

/** A host path as the engine should read it: absolute, `~` expanded, `file://` dropped. */
export function hostPath(address: string, cwd: string, home = os.homedir()): string {
  let p = address.startsWith("file://") ? address.slice("file://".length) : address;
  if (p === "~") p = home;
  else if (p.startsWith("~/")) p = path.join(home, p.slice(2));
  return path.resolve(cwd, p);
}

/** The secret URI for Dagger's secret flag forms. */
export function secretUri(value: string): string {
  if (/^[a-z][a-z0-9+]*:\/\//.test(value)) return value;
  const colon = value.indexOf(":");
  if (colon < 0) return `env://${value}`;
  return `${value.slice(0, colon)}://${value.slice(colon + 1)}`;
}

/** The chain of calls (ending in `id`) that builds an object argument. */
export function objectSteps(type: string, address: string, opts: { ignore?: readonly string[]; cwd: string; home?: string }): Step[] {
  const id: Step = { field: "id" };
  const git = type === "Directory" || type === "File" ? parseGitUrl(address) : undefined;
  switch (type) {
    case "Container":
      return [{ field: "container" }, { field: "from", args: [["address", address]] }, id];
    case "CacheVolume":
      return [{ field: "cacheVolume", args: [["key", address]] }, id];
    case "Secret":
      return [{ field: "secret", args: [["uri", secretUri(address)]] }, id];
    case "Socket":
      return [{ field: "host" }, { field: "unixSocket", args: [["path", hostPath(address.replace(/^unix:\/\//, ""), opts.cwd, opts.home)]] }, id];
    case "Service": {
      const m = /^(tcp|udp):\/\/(.*):(\d+)\/?$/.exec(address);
      if (!m) throw new InvalidArgumentError(`unsupported service address ${JSON.stringify(address)}. Must be a valid tcp:// or udp:// URL`);
      const port = Number(m[3]);
      const host = m[2]!.replace(/^\[(.*)\]$/, "$1");
      const forward = { fields: { frontend: port, backend: port, protocol: { enum: m[1]!.toUpperCase() } } };
      return [{ field: "host" }, { field: "service", args: [["ports", [forward]], ...(host ? ([["host", host]] as Array<[string, string]>) : [])] }, id];
    }
    case "Directory": {
      if (git) {
        const steps: Step[] = [
          {
            field: "git",
            args: [
              ["url", git.remote],
              ["keepGitDir", true],
            ],
          },
        ];
        steps.push(git.ref ? { field: "ref", args: [["name", git.ref]] } : { field: "head" }, { field: "tree" });
        if (git.subdir) steps.push({ field: "directory", args: [["path", git.subdir]] });
        return [...steps, id];
      }
      const args: Array<[string, string | string[]]> = [["path", hostPath(address, opts.cwd, opts.home)]];
      if (opts.ignore && opts.ignore.length > 0) args.push(["exclude", [...opts.ignore]]);
      return [{ field: "host" }, { field: "directory", args }, id];
    }
    case "File": {
      if (git) {
        if (!git.subdir) throw new InvalidArgumentError(`expected path selection for git repo: ${address}`);
        return [
          {
            field: "git",
            args: [
              ["url", git.remote],
              ["keepGitDir", true],
            ],
          },
          git.ref ? { field: "branch", args: [["name", git.ref]] } : { field: "head" },
          { field: "tree" },
          { field: "file", args: [["path", git.subdir]] },
          id,
        ];
      }
      return [{ field: "host" }, { field: "file", args: [["path", hostPath(address, opts.cwd, opts.home)]] }, id];
    }
    default:
      throw new InvalidArgumentError(`unsupported object type for a flag: ${type}`);
  }
}
