/** The client's Docker: `docker load` of an archive the engine sends (exportImage), `docker save` of one it asks for (Host.containerImage). */
import { spawn } from "node:child_process";
import { PassThrough, type Readable } from "node:stream";
import { NotFoundError, UnavailableError } from "../errors.js";

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

/**
 * `docker save name` as a stream. The image is looked up first, so a missing
 * one is an error of the call rather than a broken stream.
 */
export async function dockerSave(name: string): Promise<Readable> {
  const inspect = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn("docker", ["image", "inspect", "--format", "{{.Id}}", name], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => reject(new UnavailableError(`cannot run docker on the client: ${err.message}`)));
    child.on("close", (code) => resolve({ code, stderr }));
  });
  if (inspect.code !== 0) throw new NotFoundError(`image ${JSON.stringify(name)} not found in the client's Docker: ${inspect.stderr.trim()}`);
  const child = spawn("docker", ["save", name], { stdio: ["ignore", "pipe", "pipe"] });
  const out = new PassThrough();
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.pipe(out, { end: false });
  child.on("error", (err) => out.destroy(err));
  child.on("close", (code) => {
    if (code === 0) out.end();
    else out.destroy(new UnavailableError(`docker save ${name} failed (exit code ${code}): ${stderr.trim()}`));
  });
  return out;
}
