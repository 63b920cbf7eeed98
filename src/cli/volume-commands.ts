/**
 * `tanto cache-volume export NAME FILE` and `tanto cache-volume import NAME
 * FILE [--replace]`: a cache volume as a tar archive, through the running
 * engine's API (FILE `-`: stdout or stdin). A CI runner seeds a volume such as
 * a node_modules or Go build cache from an archive it keeps.
 */
import * as fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { connectEngine } from "../client/connect.js";
import { answerJson } from "../client/engine-json.js";
import { EngineError } from "../errors.js";

const stderrLine = (line: string): void => void process.stderr.write(line + "\n");
const volumePath = (name: string, owner: string | undefined, replace = false): string => {
  const query = new URLSearchParams({ ...(owner ? { owner } : {}), ...(replace ? { replace: "1" } : {}) }).toString();
  return `/v1/cache-volumes/${encodeURIComponent(name)}${query ? `?${query}` : ""}`;
};

export async function exportVolumeCommand(name: string, file: string, opts: { owner?: string } = {}): Promise<void> {
  const engine = await connectEngine(stderrLine);
  try {
    const res = await engine.download(volumePath(name, opts.owner));
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      // The engine's message (not found, …) through the usual error mapping.
      answerJson({ status: res.statusCode ?? 0, body }, "GET", volumePath(name, opts.owner));
      throw new EngineError(`engine answered ${res.statusCode} to the export of cache volume "${name}"`);
    }
    const out = file === "-" ? process.stdout : fs.createWriteStream(`${file}.part`);
    await pipeline(res, out);
    // A broken-off export must not leave a truncated archive under the file's name.
    if (!res.complete) throw new EngineError(`exporting cache volume "${name}" broke off: the engine ended the stream early (see its log)`);
    if (file !== "-") fs.renameSync(`${file}.part`, file);
  } catch (err) {
    if (file !== "-") fs.rmSync(`${file}.part`, { force: true });
    throw err;
  } finally {
    engine.close();
  }
}

export async function importVolumeCommand(name: string, file: string, opts: { replace: boolean; owner?: string }): Promise<void> {
  const input = file === "-" ? process.stdin : fs.createReadStream(file);
  // Open the file before connecting: a missing file is the caller's error, named as such.
  if (file !== "-") await new Promise<void>((resolve, reject) => (input as fs.ReadStream).once("open", () => resolve()).once("error", reject));
  const engine = await connectEngine(stderrLine);
  try {
    const path = volumePath(name, opts.owner, opts.replace);
    const res = await engine.upload("PUT", path, input);
    const answer = answerJson<{ replaced: boolean }>(res, "PUT", path);
    stderrLine(`cache volume "${name}" ${answer.replaced ? "replaced" : "imported"} from ${file === "-" ? "stdin" : file}`);
  } finally {
    engine.close();
  }
}

/** `tanto cache-volume push NAME [REF]` / `pull NAME [REF]`: the engine talks to the registry (without REF, its remote cache's). */
export async function registryVolumeCommand(
  action: "push" | "pull",
  name: string,
  ref: string | undefined,
  opts: { owner?: string; replace?: boolean },
): Promise<void> {
  const engine = await connectEngine(stderrLine);
  try {
    const path = `/v1/cache-volumes/${encodeURIComponent(name)}/${action}`;
    const body = JSON.stringify({ ...(ref ? { ref } : {}), ...(opts.owner ? { owner: opts.owner } : {}), ...(opts.replace ? { replace: true } : {}) });
    const answer = answerJson<{ ref: string; digest?: string; replaced?: boolean }>(await engine.request("POST", path, body), "POST", path);
    stderrLine(
      action === "push"
        ? `cache volume "${name}" pushed to ${answer.ref} (${answer.digest})`
        : `cache volume "${name}" ${answer.replaced ? "replaced" : "made"} from ${answer.ref}`,
    );
  } finally {
    engine.close();
  }
}
