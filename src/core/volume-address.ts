/**
 * A Volume from its parts (Query.sshfsVolume), checked at once, and from an
 * address (Address.volume):
 *
 *   sshfs://user@host[:port]/path?privateKey=ADDR[&knownHosts=ADDR][&cacheKey=K][&insecureSkipHostKeyCheck=true]
 *
 * whose secrets are themselves addresses (env://, file://, …), resolved by the caller.
 */
import { InvalidArgumentError } from "../errors.js";
import { parseSshfsEndpoint } from "../ops/sshfs-volumes.js";
import type { SecretRef } from "./secrets.js";
import type { ServiceSpec } from "./service.js";
import { Volume } from "./volumes.js";

export interface SshfsVolumeParts {
  endpoint: string;
  privateKey: SecretRef;
  knownHosts?: SecretRef | undefined;
  insecureSkipHostKeyCheck: boolean;
  cacheKey?: string | undefined;
  serviceHost?: ServiceSpec | undefined;
}

export function sshfsVolume(p: SshfsVolumeParts): Volume {
  parseSshfsEndpoint(p.endpoint);
  if (!p.knownHosts && !p.insecureSkipHostKeyCheck)
    throw new InvalidArgumentError("sshfsVolume: knownHosts is required unless insecureSkipHostKeyCheck is true");
  return new Volume({
    endpoint: p.endpoint,
    privateKey: p.privateKey,
    ...(p.knownHosts ? { knownHosts: p.knownHosts } : {}),
    ...(p.insecureSkipHostKeyCheck ? { insecureSkipHostKeyCheck: true as const } : {}),
    ...(p.cacheKey !== undefined ? { cacheKey: p.cacheKey } : {}),
    ...(p.serviceHost ? { serviceHost: p.serviceHost } : {}),
  });
}

/** A volume address's parts, its secrets still as addresses. */
export interface VolumeAddress {
  endpoint: string;
  privateKey: string;
  knownHosts?: string | undefined;
  cacheKey?: string | undefined;
  insecureSkipHostKeyCheck: boolean;
}

export function parseVolumeAddress(value: string): VolumeAddress {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`address ${JSON.stringify(value)}: not a volume address (sshfs://user@host/path?privateKey=…)`);
  }
  if (u.protocol !== "sshfs:") throw new InvalidArgumentError(`unsupported volume address ${JSON.stringify(value)}: must use sshfs://`);
  if (u.hash !== "") throw new InvalidArgumentError("volume address must not include a fragment");
  const q = new URLSearchParams(u.search);
  const take = (k: string): string | undefined => {
    const v = q.get(k) ?? undefined;
    q.delete(k);
    return v;
  };
  const privateKey = take("privateKey");
  if (!privateKey) throw new InvalidArgumentError("volume address missing privateKey query parameter");
  const knownHosts = take("knownHosts");
  const cacheKey = take("cacheKey");
  const insecure = take("insecureSkipHostKeyCheck");
  if (insecure !== undefined && !/^(true|false|1|0)$/i.test(insecure)) {
    throw new InvalidArgumentError(`volume address: insecureSkipHostKeyCheck must be true or false, not ${JSON.stringify(insecure)}`);
  }
  const extra = [...q.keys()][0];
  if (extra !== undefined) throw new InvalidArgumentError(`unsupported volume address query parameter ${JSON.stringify(extra)}`);
  u.search = "";
  return {
    endpoint: u.toString(),
    privateKey,
    ...(knownHosts ? { knownHosts } : {}),
    ...(cacheKey ? { cacheKey } : {}),
    insecureSkipHostKeyCheck: insecure !== undefined && /^(true|1)$/i.test(insecure),
  };
}
