/** Query.sshfsVolume, Container.withMountedVolume and Address.volume. */

import type { Address } from "../../core/addresses.js";
import type { Container } from "../../core/container.js";
import { encodeId } from "../../core/ids.js";
import type { Secret } from "../../core/secrets.js";
import type { Service } from "../../core/service.js";
import type { RequestContext } from "../../core/types.js";
import { Volume } from "../../core/volumes.js";
import { InvalidArgumentError } from "../../errors.js";
import { parseSshfsEndpoint } from "../../ops/sshfs-volumes.js";
import { loadObject } from "../objects.js";
import { type Args, bool, containerPath, optStr, str } from "./args.js";
import { secretQueryResolvers } from "./secrets.js";

function sshfsVolume(a: Args): Volume {
  const endpoint = str(a, "endpoint");
  parseSshfsEndpoint(endpoint);
  const knownHostsId = optStr(a, "knownHosts");
  const insecure = bool(a, "insecureSkipHostKeyCheck");
  if (!knownHostsId && !insecure) throw new InvalidArgumentError("sshfsVolume: knownHosts is required unless insecureSkipHostKeyCheck is true");
  const cacheKey = optStr(a, "cacheKey");
  const serviceId = optStr(a, "experimentalServiceHost");
  return new Volume({
    endpoint,
    privateKey: (loadObject(str(a, "privateKey"), "Secret") as Secret).ref,
    ...(knownHostsId ? { knownHosts: (loadObject(knownHostsId, "Secret") as Secret).ref } : {}),
    ...(insecure ? { insecureSkipHostKeyCheck: true as const } : {}),
    ...(cacheKey !== undefined ? { cacheKey } : {}),
    ...(serviceId ? { serviceHost: (loadObject(serviceId, "Service") as Service).spec } : {}),
  });
}

export const volumeResolvers = {
  id: (v: Volume) => encodeId(v),
};

export const volumeQueryResolvers = {
  sshfsVolume: (_: unknown, a: Args) => sshfsVolume(a),
};

export const volumeContainerResolvers = {
  withMountedVolume: (c: Container, a: Args) => {
    const v = loadObject(str(a, "volume"), "Volume") as unknown as Volume;
    return c.withMount({ target: containerPath(c, a), type: "volume", volume: v.state, readOnly: bool(a, "readOnly") });
  },
};

/** `sshfs://user@host[:port]/path?privateKey=ADDR[&knownHosts=ADDR][&cacheKey=K][&insecureSkipHostKeyCheck=true]`, secrets as addresses. */
export const volumeAddressResolvers = {
  volume: async (addr: Address, _a: Args, ctx: RequestContext) => {
    let u: URL;
    try {
      u = new URL(addr.value);
    } catch {
      throw new InvalidArgumentError(`address ${JSON.stringify(addr.value)}: not a volume address (sshfs://user@host/path?privateKey=…)`);
    }
    if (u.protocol !== "sshfs:") throw new InvalidArgumentError(`unsupported volume address ${JSON.stringify(addr.value)}: must use sshfs://`);
    if (u.hash !== "") throw new InvalidArgumentError("volume address must not include a fragment");
    const q = new URLSearchParams(u.search);
    const take = (k: string) => {
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
    const secretId = async (uri: string) => encodeId(await secretQueryResolvers.secret(undefined, { uri }, ctx));
    return sshfsVolume({
      endpoint: u.toString(),
      privateKey: await secretId(privateKey),
      ...(knownHosts ? { knownHosts: await secretId(knownHosts) } : {}),
      ...(cacheKey ? { cacheKey } : {}),
      insecureSkipHostKeyCheck: insecure !== undefined && /^(true|1)$/i.test(insecure),
    });
  },
};
