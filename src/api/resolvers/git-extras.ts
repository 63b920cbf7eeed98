/** GitRef.commonAncestor, Directory.asGit. */
import { commonAncestor, type GitRef, localGitRepository } from "../../core/sources.js";
import type { RequestContext } from "../../core/types.js";
import type { Directory } from "../../core/values.js";
import { loadObject } from "../objects.js";
import { type Args, str } from "./args.js";

export const gitExtrasRefResolvers = {
  commonAncestor: (g: GitRef, a: Args, ctx: RequestContext) => commonAncestor(ctx, g, loadObject(str(a, "other"), "GitRef") as GitRef),
};

export const gitExtrasDirectoryResolvers = {
  asGit: (d: Directory) => localGitRepository(d),
};
