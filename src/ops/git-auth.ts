/**
 * Credentials of a git remote as recipes name them (secrets by HMAC, the
 * client's ssh-agent socket by path) turned into what git needs here: the
 * Authorization header, a forwarded agent socket and a known_hosts file, for
 * the duration of one git command.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError } from "../errors.js";
import type { GitAuth } from "../sources/git-source.js";
import { forwardClientSocket } from "./socket-forward.js";

interface SecretKey {
  name: string;
  mac: string;
}

/** How a git op or repository names its credentials (never their values). */
export interface GitAuthSpec {
  httpToken?: { username: string; secret: SecretKey };
  httpHeader?: SecretKey;
  sshKnownHosts?: string;
  sshAuthSocket?: { client: string; path: string };
}

export interface GitAuthContext {
  readonly session?: unknown;
  readonly secrets?: { plaintext(ref: SecretKey): string } | undefined;
}

export function hasGitAuth(spec: GitAuthSpec | undefined): spec is GitAuthSpec {
  return spec !== undefined && Object.keys(spec).length > 0;
}

/** Run `fn` with the credentials of `spec` ready for git (undefined spec: none). */
export async function withGitAuth<T>(
  spec: GitAuthSpec | undefined,
  ctx: GitAuthContext,
  scratchDir: string,
  fn: (auth: GitAuth | undefined) => Promise<T>,
): Promise<T> {
  if (!hasGitAuth(spec)) return fn(undefined);
  const secret = (ref: SecretKey): string => {
    if (!ctx.secrets) throw new FailedPreconditionError(`git credentials: secret "${ref.name}" needs a session`);
    return ctx.secrets.plaintext(ref);
  };
  const auth: GitAuth = {};
  if (spec.httpHeader) auth.authorization = secret(spec.httpHeader);
  else if (spec.httpToken) auth.authorization = `Basic ${Buffer.from(`${spec.httpToken.username}:${secret(spec.httpToken.secret)}`).toString("base64")}`;
  const dir = path.join(scratchDir, `git-auth-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  let server: import("node:net").Server | undefined;
  try {
    if (spec.sshKnownHosts) {
      auth.knownHostsFile = path.join(dir, "known_hosts");
      await fs.writeFile(auth.knownHostsFile, spec.sshKnownHosts.endsWith("\n") ? spec.sshKnownHosts : `${spec.sshKnownHosts}\n`);
    }
    if (spec.sshAuthSocket) {
      const session = ctx.session as { clientKey?: string } | undefined;
      if (session?.clientKey !== spec.sshAuthSocket.client) {
        throw new FailedPreconditionError(`git sshAuthSocket: socket ${spec.sshAuthSocket.path} belongs to another client than this session's`);
      }
      auth.sshAuthSock = path.join(dir, "agent.sock");
      server = await forwardClientSocket(ctx.session, spec.sshAuthSocket.path, auth.sshAuthSock, "git sshAuthSocket");
    }
    return await fn(auth);
  } finally {
    const s = server;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    await fs.rm(dir, { recursive: true, force: true });
  }
}
