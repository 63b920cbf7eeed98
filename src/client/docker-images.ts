/** The client's Docker, for Container.exportImage: `docker load` of an archive the engine sends. */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { UnavailableError } from "../errors.js";

/** Pipe `archive` into `docker load` (DOCKER_HOST and friends as this process has them); resolves with its output. */
export function dockerLoad(archive: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["load"], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => reject(new UnavailableError(`cannot run docker on the client: ${err.message}`)));
    child.stdin.on("error", () => undefined);
    archive.on("error", (err) => child.stdin.destroy(err));
    archive.pipe(child.stdin);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout.trim());
      else reject(new UnavailableError(`docker load on the client failed (exit code ${code}): ${stderr.trim() || stdout.trim()}`));
    });
  });
}
