import { Container } from "../../core/container.js";
import { Host } from "../../core/host.js";
import { encodeId } from "../../core/ids.js";
import type { RequestContext } from "../../core/types.js";
import { CacheVolume, type CacheVolumeDefaults, Directory, QueryRoot } from "../../core/values.js";
import { InvalidArgumentError } from "../../errors.js";
import { formatPlatform, parsePlatform } from "../../oci/platform.js";
import { loadObject } from "../objects.js";
import { type Args, optStr, str } from "./args.js";

export const queryResolvers = {
  id: () => encodeId(new QueryRoot()),
  version: (_: unknown, _a: Args, ctx: RequestContext) => ctx.deps.version,
  defaultPlatform: (_: unknown, _a: Args, ctx: RequestContext) => ctx.deps.defaultPlatform,
  container: (_: unknown, a: Args, ctx: RequestContext) => Container.empty(formatPlatform(parsePlatform(optStr(a, "platform") ?? ctx.deps.defaultPlatform))),
  directory: () => new Directory(undefined, "/"),
  host: () => new Host(),
  cacheVolume: (_: unknown, a: Args) => {
    const key = str(a, "key");
    if (key === "") throw new InvalidArgumentError("cacheVolume key must not be empty");
    const source = optStr(a, "source");
    const sharing = optStr(a, "sharing") as CacheVolumeDefaults["sharing"] | undefined;
    const owner = optStr(a, "owner");
    return new CacheVolume(key, {
      ...(source ? { source: loadObject(source, "Directory") as Directory } : {}),
      ...(sharing ? { sharing } : {}),
      ...(owner ? { owner } : {}),
    });
  },
};
