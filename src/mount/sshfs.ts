/**
 * SSHFS mounts (Debian's `sshfs`, a FUSE file system over SFTP). sshfs
 * connects and authenticates before it mounts, then leaves a daemon that
 * serves the mount until it is unmounted (`unmount` of ./mount.ts), so a
 * bad key or host is an error of this call, with ssh's own words.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import { EngineError, FailedPreconditionError } from "../errors.js";

export interface SshfsMount {
  /** `user@host:/path`, as sshfs takes it. */
  source: string;
  port?: string;
  /** A private key file (mode 0600). */
  identityFile: string;
  /** A known_hosts file; without one, the host key is not checked. */
  knownHostsFile?: string;
  /** The name the host key is looked up under, when it is not the host connected to. */
  hostKeyAlias?: string;
  readOnly: boolean;
  /** Where sshfs's messages go (read back on failure). */
  logFile: string;
}

/** Why sshfs cannot run here, or undefined when it can. */
export function sshfsUnavailable(): string | undefined {
  if (!existsSync("/usr/bin/sshfs")) return "Debian's sshfs is not installed where the engine runs (apt-get install sshfs)";
  if (!existsSync("/dev/fuse")) return "/dev/fuse is missing where the engine runs (FUSE is not available)";
  return undefined;
}

const CONNECT_SECONDS = 15;

/** Mount `m` on `target` (an existing directory); rejects with sshfs's message when it cannot. */
export async function mountSshfs(m: SshfsMount, target: string, signal?: AbortSignal): Promise<void> {
  const why = sshfsUnavailable();
  if (why) throw new FailedPreconditionError(why);
  const args = [m.source, target, "-F", "/dev/null"];
  if (m.port) args.push("-p", m.port);
  // sshfs sends ssh's own messages to /dev/null once it daemonizes: ssh writes them to a log of its own (-E).
  const sshLog = `${m.logFile}.ssh`;
  const plainPath = /^[^\s,\\]+$/.test(sshLog);
  const opts = [
    ...(plainPath ? [`ssh_command=ssh -E ${sshLog}`] : []),
    "LogLevel=ERROR",
    "BatchMode=yes",
    "IdentitiesOnly=yes",
    `IdentityFile=${m.identityFile}`,
    `ConnectTimeout=${CONNECT_SECONDS}`,
    // Root mounts it; the container's users (root or not) go through it.
    "allow_other",
    ...(m.knownHostsFile
      ? ["StrictHostKeyChecking=yes", `UserKnownHostsFile=${m.knownHostsFile}`, ...(m.hostKeyAlias ? [`HostKeyAlias=${m.hostKeyAlias}`] : [])]
      : ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"]),
    ...(m.readOnly ? ["ro"] : []),
  ];
  for (const o of opts) args.push("-o", o);
  const log = await fs.open(m.logFile, "w", 0o600);
  try {
    // The daemon sshfs leaves keeps the log open: wait for the exit of the process started, not for its streams.
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn("sshfs", args, { stdio: ["ignore", log.fd, log.fd], ...(signal ? { signal } : {}) });
      const timer = setTimeout(() => child.kill("SIGKILL"), (CONNECT_SECONDS + 15) * 1000);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code !== 0) {
      const read = (f: string) => fs.readFile(f, "utf8").catch(() => "");
      const said = `${await read(sshLog)}\n${await read(m.logFile)}`.trim();
      throw new EngineError(said || `sshfs exited with code ${code}`);
    }
  } finally {
    await log.close();
  }
}
