/**
 * Cache volume transfer over the engine's API: `GET /v1/cache-volumes/:name`
 * streams the volume as a tar archive; `PUT` makes it from one (see
 * ops/volume-transfer.ts). `?owner=` names the volume mounted with that owner. The CLI's `tanto cache-volume export|import`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { pullVolume, pushVolume } from "../cache/volume-registry.js";
import { InvalidArgumentError } from "../errors.js";
import { readJson, sendJson } from "../http/json.js";
import { parseReference } from "../oci/reference.js";
import { exportVolume, importVolume } from "../ops/volume-transfer.js";
import type { Engine } from "./engine.js";

/** `POST /v1/cache-volumes/:name/push {ref, owner?}` and `/pull {ref, owner?, replace?}`: through a registry. */
export async function volumeRegistryEndpoint(engine: Engine, req: IncomingMessage, res: ServerResponse, name: string, action: string): Promise<void> {
  if (req.method !== "POST" || (action !== "push" && action !== "pull"))
    return sendJson(res, 405, { error: `${req.method} not allowed on cache volume ${action}` });
  const body = await readJson(req);
  const ref = body["ref"];
  const owner = body["owner"];
  if (typeof ref !== "string" || ref === "") throw new InvalidArgumentError('want {"ref": "HOST/REPOSITORY:TAG"}');
  if (owner !== undefined && (typeof owner !== "string" || owner === "")) throw new InvalidArgumentError('"owner" must be a non-empty string');
  const reference = parseReference(ref);
  const selector = owner === undefined ? {} : { owner };
  if (action === "push") {
    const digest = await pushVolume(engine.volumeRegistry, name, reference, selector);
    engine.log.info("cache volume pushed", { volume: name, ref, digest });
    return sendJson(res, 200, { volume: name, ref, digest });
  }
  const result = await pullVolume(engine.volumeRegistry, name, reference, { ...selector, replace: body["replace"] === true });
  engine.log.info("cache volume pulled", { volume: name, ref, replaced: result.replaced });
  return sendJson(res, 200, { volume: name, ref, ...result });
}

export async function volumeEndpoint(engine: Engine, req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
  if (name === "") throw new InvalidArgumentError("cache volume name must not be empty");
  const owner = query.get("owner") ?? undefined;
  if (owner === "") throw new InvalidArgumentError("owner must not be empty: leave it out for the volume without an owner");
  if (req.method === "GET") {
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    // Headers go with the first bytes: a missing volume is still a 404 answer, a tar failure midway a broken stream.
    res.setHeader("content-type", "application/x-tar");
    await exportVolume(engine.volumes, name, res, { signal: abort.signal, owner });
    return;
  }
  if (req.method === "PUT") {
    const replace = query.get("replace") === "1" || query.get("replace") === "true";
    const result = await importVolume(engine.volumes, name, req, { replace, owner });
    engine.log.info("cache volume imported", { volume: name, replaced: result.replaced });
    return sendJson(res, 200, { volume: name, ...result });
  }
  return sendJson(res, 405, { error: `${req.method} not allowed on cache volumes` });
}
