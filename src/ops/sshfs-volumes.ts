/**
 * SSHFS volumes in an exec (`withMountedVolume` of a `sshfsVolume`): for the
 * run of the command, the remote directory is mounted with sshfs on the
 * engine and bound into the container at the mount's target; it is
 * unmounted when the command ends. The private key and known_hosts lines
 * come from the session's secrets and are written to a private tmpfs, never
 * to the disk, and removed with it.
 *
 * An exec names a volume by a key (`volume`): a digest of its spec, or the
 * volume's `cacheKey`. How to reach it travels beside the key
 * (`origin.volumes`), outside the cache key, so volumes with one cacheKey
 * are one for the cache, as in Dagger.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, InvalidArgumentError, messageOf } from "../errors.js";
import { mount, unmount } from "../mount/mount.js";
import { mountSshfs } from "../mount/sshfs.js";
import type { Mount as SpecMount } from "../oci/runtime-spec.js";
import type { SolveContext } from "../solver/types.js";
import type { Cleanup } from "./exec-secrets.js";

/** How a volume is reached: secrets by name and HMAC, never their values. */
export interface SshfsVolumeSpec {
  /** `sshfs://user@host[:port]/absolute/path`. */
  endpoint: string;
  privateKey: { name: string; mac: string };
  knownHosts?: { name: string; mac: string };
  insecureSkipHostKeyCheck?: true;
  /** A service whose address replaces the endpoint's host (the host key is still checked under the endpoint's name). */
  serviceHost?: unknown;
}

export interface VolumeMount {
  target: string;
  type: "volume";
  /** The volume's part of the cache key: `sshfs:<digest of its spec>` or `cacheKey:<key>`. */
  volume: string;
  readOnly: boolean;
}

export interface SshfsEndpoint {
  user: string;
  host: string;
  port?: string;
  path: string;
}

/** Check and split an endpoint; errors name the `endpoint` argument, as Dagger's checks do. */
export function parseSshfsEndpoint(endpoint: string): SshfsEndpoint {
  const bad = (why: string) => new InvalidArgumentError(`sshfsVolume: endpoint ${JSON.stringify(endpoint)} ${why}`);
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw bad("is not a URL: expected sshfs://user@host[:port]/absolute/path");
  }
  if (u.protocol !== "sshfs:") throw bad("must use the sshfs:// scheme");
  if (u.hostname === "") throw bad("must include a host");
  // Both reach sshfs's command line (and its comma-separated -o options): plain names only.
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9._-]*)$/.test(u.hostname)) throw bad("has an invalid host: want a name or an address");
  if (u.username === "") throw bad("must include a user");
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(decodeURIComponent(u.username))) throw bad("has an invalid user name");
  if (u.password !== "") throw bad("must not include a password");
  if (!u.pathname.startsWith("/")) throw bad("must include an absolute path");
  if (u.search !== "" || u.hash !== "") throw bad("must not include query parameters or fragments");
  return {
    user: decodeURIComponent(u.username),
    host: u.hostname,
    ...(u.port ? { port: u.port } : {}),
    path: decodeURIComponent(u.pathname),
  };
}

/** The name known_hosts files give a host: `host`, or `[host]:port` off port 22. */
function knownHostsName(e: SshfsEndpoint): string {
  return e.port && e.port !== "22" ? `[${e.host}]:${e.port}` : e.host;
}

export interface VolumeServices {
  bind(service: unknown, ctx: SolveContext): Promise<{ ip: string; release(): Promise<void> }>;
}

/**
 * Mount each volume of `mounts` under `dir` for one run; the bind mounts
 * for the container. Every undo step goes to `cleanup` (sshfs first, then
 * the tmpfs holding the key), so a failure half-way leaves nothing behind.
 */
export async function mountVolumes(
  mounts: readonly { type: string; target: string }[],
  specs: Readonly<Record<string, SshfsVolumeSpec>> | undefined,
  dir: string,
  ctx: SolveContext,
  cleanup: Cleanup,
  services?: VolumeServices,
): Promise<SpecMount[]> {
  const wanted = mounts.filter((m): m is VolumeMount => m.type === "volume");
  const out: SpecMount[] = [];
  for (const [i, m] of wanted.entries()) {
    const spec = specs?.[m.target];
    if (!spec) throw new FailedPreconditionError(`withMountedVolume ${m.target}: the volume's endpoint is not known to this exec`);
    const endpoint = parseSshfsEndpoint(spec.endpoint);
    const plaintext = (key: { name: string; mac: string }) => {
      if (!ctx.secrets) throw new FailedPreconditionError(`secret "${key.name}" is not available here`);
      return ctx.secrets.plaintext(key);
    };
    if (!spec.knownHosts && !spec.insecureSkipHostKeyCheck) {
      throw new InvalidArgumentError("sshfsVolume: knownHosts is required unless insecureSkipHostKeyCheck is true");
    }
    const work = path.join(dir, `v${i}`);
    await fs.mkdir(work, { recursive: true });
    await mount({ type: "tmpfs", source: "tmpfs", options: ["mode=0700", "size=1m", "nodev", "nosuid"] }, work);
    cleanup.defer(() => unmount(work).catch(() => unmount(work, { detach: true })));
    const identityFile = path.join(work, "key");
    const key = plaintext(spec.privateKey);
    await fs.writeFile(identityFile, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
    let knownHostsFile: string | undefined;
    if (spec.knownHosts) {
      const lines = plaintext(spec.knownHosts);
      if (lines.trim() === "" && !spec.insecureSkipHostKeyCheck) throw new InvalidArgumentError("sshfsVolume: knownHosts is empty");
      knownHostsFile = path.join(work, "known_hosts");
      await fs.writeFile(knownHostsFile, `${lines}\n`, { mode: 0o600 });
    }
    let host = endpoint.host;
    if (spec.serviceHost !== undefined) {
      if (!services) throw new FailedPreconditionError("this engine cannot run services (sshfsVolume experimentalServiceHost)");
      const bound = await (ctx.outsideSlot ?? ((f) => f()))(() => services.bind(spec.serviceHost, ctx));
      cleanup.defer(() => bound.release());
      host = bound.ip;
    }
    const at = path.join(work, "mnt");
    await fs.mkdir(at);
    const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    try {
      await mountSshfs(
        {
          source: `${endpoint.user}@${hostPart}:${endpoint.path}`,
          ...(endpoint.port ? { port: endpoint.port } : {}),
          identityFile,
          ...(knownHostsFile ? { knownHostsFile } : {}),
          ...(knownHostsFile && host !== endpoint.host ? { hostKeyAlias: knownHostsName(endpoint) } : {}),
          readOnly: m.readOnly,
          logFile: path.join(work, "log"),
        },
        at,
        ctx.signal,
      );
    } catch (err) {
      throw new FailedPreconditionError(`withMountedVolume ${m.target}: cannot mount ${spec.endpoint}: ${blame(messageOf(err))}`, { cause: err });
    }
    cleanup.defer(() => unmount(at).catch(() => unmount(at, { detach: true })));
    out.push({ destination: m.target, type: "bind", source: at, options: ["rbind", m.readOnly ? "ro" : "rw"] });
  }
  return out;
}

/** ssh's message, with the sshfsVolume argument it points at. */
function blame(said: string): string {
  const text = said.replace(/\s+/g, " ").trim();
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(text)) {
    return `${text} (the host key is not in knownHosts)`;
  }
  if (/Permission denied|invalid format|error in libcrypto|Load key/i.test(text)) return `${text} (check privateKey)`;
  if (/Connection refused|No route to host|timed out|Could not resolve|Name or service not known|Network is unreachable/i.test(text)) {
    return `${text} (check the endpoint's host and port)`;
  }
  if (/No such file or directory/i.test(text)) return `${text} (check the endpoint's path)`;
  return text;
}
