import type { Container } from "../../core/container.js";
import { encodeId } from "../../core/ids.js";
import type { Secret } from "../../core/secrets.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { loadObject } from "../objects.js";
import { type Args, containerPath, optInt, optStr, str } from "./args.js";

const SECRET_SCHEMES = ["env://", "file://", "cmd://"];

const secretArg = (a: Args, k: string): Secret => loadObject(str(a, k), "Secret") as Secret;

export const secretQueryResolvers = {
  setSecret: (_: unknown, a: Args, ctx: RequestContext) => ctx.session.secrets.add(str(a, "name"), str(a, "plaintext")),
  secret: async (_: unknown, a: Args, ctx: RequestContext) => {
    const uri = str(a, "uri");
    if (!SECRET_SCHEMES.some((s) => uri.startsWith(s))) {
      throw new InvalidArgumentError(`unsupported secret URI "${uri}": want env://NAME, file://PATH or cmd://COMMAND`);
    }
    // Resolved on the client's machine, through the session.
    const value = await ctx.session.host.resolveSecret(uri, ctx.signal);
    return ctx.session.secrets.add(uri, value, uri, optStr(a, "cacheKey"));
  },
};

export const secretResolvers = {
  id: (s: Secret) => encodeId(s),
  name: (s: Secret) => s.ref.name,
  uri: (s: Secret) => s.ref.uri ?? "",
  plaintext: (s: Secret, _a: Args, ctx: RequestContext) => ctx.session.secrets.plaintext(s.ref),
};

export const secretContainerResolvers = {
  withSecretVariable: (c: Container, a: Args) => {
    const name = str(a, "name");
    const secret = secretArg(a, "secret");
    return c.with({ secretEnv: [...c.state.secretEnv.filter((e) => e.name !== name), { name, secret: secret.ref }] });
  },
  withoutSecretVariable: (c: Container, a: Args) => c.with({ secretEnv: c.state.secretEnv.filter((e) => e.name !== str(a, "name")) }),
  withMountedSecret: (c: Container, a: Args) => {
    const owner = optStr(a, "owner");
    const mode = optInt(a, "mode") ?? 0o400;
    if (mode < 0 || mode > 0o7777) throw new InvalidArgumentError(`invalid mode ${mode}: want 0 to 0o7777`);
    return c.withMount({ target: containerPath(c, a), type: "secret", secret: secretArg(a, "source").ref, mode, ...(owner ? { owner } : {}) });
  },
};
