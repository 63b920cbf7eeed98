/** Directory.dockerBuild: arguments in, a Container recipe out. */

import { dockerBuild } from "../../core/dockerfile-build.js";
import type { Socket } from "../../core/extra-values.js";
import type { Secret } from "../../core/secrets.js";
import type { RequestContext } from "../../core/types.js";
import type { Directory } from "../../core/values.js";
import { InvalidArgumentError } from "../../errors.js";
import { loadObject } from "../objects.js";
import { type Args, bool, optStr, strList } from "./args.js";

function buildArgs(a: Args): Array<{ name: string; value: string }> {
  const list = a["buildArgs"];
  if (list === null || list === undefined) return [];
  return (list as Array<{ name: string; value: string }>).map((arg) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.name)) throw new InvalidArgumentError(`invalid build arg name "${arg.name}"`);
    return { name: arg.name, value: arg.value };
  });
}

export const dockerfileDirectoryResolvers = {
  dockerBuild: (d: Directory, a: Args, ctx: RequestContext) => {
    const dockerfile = optStr(a, "dockerfile");
    const platform = optStr(a, "platform");
    const target = optStr(a, "target");
    const ssh = optStr(a, "ssh");
    return dockerBuild(ctx, d, {
      ...(dockerfile ? { dockerfile } : {}),
      ...(platform ? { platform } : {}),
      ...(target ? { target } : {}),
      buildArgs: buildArgs(a),
      noInit: bool(a, "noInit"),
      secrets: strList(a, "secrets").map((id) => loadObject(id, "Secret") as Secret),
      ...(ssh !== undefined ? { ssh: loadObject(ssh, "Socket") as unknown as Socket } : {}),
    });
  },
};
