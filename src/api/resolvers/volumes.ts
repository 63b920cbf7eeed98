/** Query.sshfsVolume, Container.withMountedVolume and Address.volume. */

import type { Address } from "../../core/addresses.js";
import type { Container } from "../../core/container.js";
import { encodeId } from "../../core/ids.js";
import type { Secret, SecretRef } from "../../core/secrets.js";
import type { Service } from "../../core/service.js";
import type { RequestContext } from "../../core/types.js";
import { parseVolumeAddress, sshfsVolume } from "../../core/volume-address.js";
import type { Volume } from "../../core/volumes.js";
import { loadObject } from "../objects.js";
import { type Args, bool, containerPath, optStr, str } from "./args.js";
import { secretQueryResolvers } from "./secrets.js";

const secretRef = (id: string): SecretRef => (loadObject(id, "Secret") as Secret).ref;

function sshfsVolumeOf(a: Args): Volume {
  const knownHosts = optStr(a, "knownHosts");
  const serviceId = optStr(a, "experimentalServiceHost");
  return sshfsVolume({
    endpoint: str(a, "endpoint"),
    privateKey: secretRef(str(a, "privateKey")),
    knownHosts: knownHosts ? secretRef(knownHosts) : undefined,
    insecureSkipHostKeyCheck: bool(a, "insecureSkipHostKeyCheck"),
    cacheKey: optStr(a, "cacheKey"),
    serviceHost: serviceId ? (loadObject(serviceId, "Service") as Service).spec : undefined,
  });
}

export const volumeResolvers = {
  id: (v: Volume) => encodeId(v),
};

export const volumeQueryResolvers = {
  sshfsVolume: (_: unknown, a: Args) => sshfsVolumeOf(a),
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
    const parts = parseVolumeAddress(addr.value);
    // Its secrets are addresses too, resolved on the client's machine.
    const secret = async (uri: string) => (await secretQueryResolvers.secret(undefined, { uri }, ctx)).ref;
    return sshfsVolume({
      ...parts,
      privateKey: await secret(parts.privateKey),
      knownHosts: parts.knownHosts ? await secret(parts.knownHosts) : undefined,
    });
  },
};
