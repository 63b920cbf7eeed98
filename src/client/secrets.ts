/**
 * Client-side secret providers: the value of `env://NAME`, `file://PATH` or
 * `cmd://COMMAND` is read on the client's machine and sent to the engine,
 * which keeps it in memory for the session only.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { InvalidArgumentError, NotFoundError } from "../errors.js";

export async function resolveSecretUri(workdir: string, uri: string): Promise<string> {
  if (uri.startsWith("env://")) {
    const name = uri.slice("env://".length);
    const value = process.env[name];
    if (value === undefined) throw new NotFoundError(`secret ${uri}: environment variable ${name} is not set on the client`);
    return value;
  }
  if (uri.startsWith("file://")) {
    let p = uri.slice("file://".length);
    if (p.startsWith("~/")) p = path.join(os.homedir(), p.slice(2));
    try {
      return await fs.readFile(path.resolve(workdir, p), "utf8");
    } catch {
      throw new NotFoundError(`secret ${uri}: cannot read ${p} on the client`);
    }
  }
  if (uri.startsWith("cmd://")) {
    const command = uri.slice("cmd://".length);
    return new Promise((resolve, reject) => {
      execFile("/bin/sh", ["-c", command], { cwd: workdir, maxBuffer: 16 << 20 }, (err, stdout) => {
        // The command's output is not repeated in the error: it may be the secret.
        if (err) reject(new InvalidArgumentError(`secret cmd:// command failed (exit ${(err as { code?: number }).code ?? "?"})`));
        else resolve(stdout.replace(/\n$/, ""));
      });
    });
  }
  throw new InvalidArgumentError(`unsupported secret URI scheme in "${uri.split("://")[0]}://…"`);
}
