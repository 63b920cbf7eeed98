/** Query.address: each selection reads the address as its type, through the fields that type already has. */
import { Address, isGitAddress, parseGitAddress, parseServiceAddress } from "../../core/addresses.js";
import { Container, fromAddress } from "../../core/container.js";
import { Socket } from "../../core/extra-values.js";
import { Host, hostFile, hostFileFiltered } from "../../core/host.js";
import { encodeId } from "../../core/ids.js";
import { Service } from "../../core/service.js";
import { type GitRef, gitRepository, gitTree, httpFile, resolveGitRef } from "../../core/sources.js";
import type { RequestContext } from "../../core/types.js";
import { Directory } from "../../core/values.js";
import { InvalidArgumentError } from "../../errors.js";
import { formatPlatform, parsePlatform } from "../../oci/platform.js";
import { type Args, bool, strList } from "./args.js";
import { hostResolvers } from "./directory.js";
import { secretQueryResolvers } from "./secrets.js";

async function gitRefOf(a: Address, ctx: RequestContext): Promise<{ ref: GitRef; subdir: string | undefined }> {
  const { url, ref, subdir } = parseGitAddress(a.value);
  const repo = gitRepository(url, undefined);
  return { ref: await resolveGitRef(ctx, repo, ref ? { kind: "ref", name: ref } : { kind: "head" }), subdir };
}

export const addressQueryResolvers = {
  address: (_: unknown, a: Args) => {
    const value = a["value"] as string;
    if (value === "") throw new InvalidArgumentError("address: value must not be empty");
    return new Address(value);
  },
};

export const addressResolvers = {
  id: (a: Address) => encodeId(a),
  value: (a: Address) => a.value,
  container: (a: Address, _args: Args, ctx: RequestContext) =>
    fromAddress(Container.empty(formatPlatform(parsePlatform(ctx.deps.defaultPlatform))), a.value, ctx),
  directory: async (a: Address, args: Args, ctx: RequestContext) => {
    if (!isGitAddress(a.value)) return hostResolvers.directory(new Host(), { ...args, path: a.value }, ctx);
    const { ref, subdir } = await gitRefOf(a, ctx);
    const tree = gitTree(ref, { discardGitDir: false, depth: 1 });
    return subdir ? new Directory(tree.source, `/${subdir.replace(/^\/+/, "")}`) : tree;
  },
  file: async (a: Address, args: Args, ctx: RequestContext) => {
    const include = strList(args, "include");
    const exclude = strList(args, "exclude");
    const gitignore = bool(args, "gitignore");
    const filtered = include.length > 0 || exclude.length > 0 || gitignore;
    if (/^https?:\/\//.test(a.value)) {
      if (filtered) throw new InvalidArgumentError(`address ${a.value}: include, exclude and gitignore select files of a client directory, not of a URL`);
      return httpFile(ctx, a.value, { name: undefined, permissions: 0o600, checksum: undefined, authHeader: undefined });
    }
    if (!filtered) return hostFile(ctx, a.value, bool(args, "noCache"));
    return hostFileFiltered(ctx, a.value, { include, exclude, gitignore, noCache: bool(args, "noCache") });
  },
  gitRepository: (a: Address) => gitRepository(parseGitAddress(a.value).url, undefined),
  gitRef: async (a: Address, _args: Args, ctx: RequestContext) => (await gitRefOf(a, ctx)).ref,
  secret: (a: Address, _args: Args, ctx: RequestContext) => secretQueryResolvers.secret(undefined, { uri: a.value }, ctx),
  service: (a: Address) => {
    const { host, port } = parseServiceAddress(a.value);
    return new Service({ kind: "host", ports: [{ backend: port, protocol: "TCP" }], host });
  },
  socket: (a: Address, _args: Args, ctx: RequestContext) => new Socket(ctx.session.clientKey, a.value.replace(/^unix:\/\//, "")),
};
