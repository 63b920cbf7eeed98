/**
 * Cache volume transfer over the engine's API: `GET /v1/cache-volumes/:name`
 * streams the volume as a tar archive; `PUT` makes it from one (see
 * ops/volume-transfer.ts). `?owner=` names the volume mounted with that owner. The CLI's `tanto cache-volume export|import`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { pullVolume, pullVolumeFromCache, pushVolume, volumeRef } from "../cache/volume-registry.js";
import { InvalidArgumentError } from "../errors.js";
import { readJson, sendJson } from "../http/json.js";
import { parseReference } from "../oci/reference.js";
import { exportVolume, importVolume } from "../ops/volume-transfer.js";
import type { Engine } from "./engine.js";

/**
 * `POST /v1/cache-volumes/:name/push {ref?, owner?}` and `/pull {ref?, owner?, replace?}`:
 * through a registry; without `ref`, through the engine's remote cache ([cache]).
 */
export async function volumeRegistryEndpoint(engine: Engine, req: IncomingMessage, res: ServerResponse, name: string, action: string): Promise<void> {
  if (req.method !== "POST" || (action !== "push" && action !== "pull"))
    return sendJson(res, 405, { error: `${req.method} not allowed on cache volume ${action}` });
  const body = await readJson(req);
  const given = body["ref"];
  const owner = body["owner"];
  if (given !== undefined && (typeof given !== "string" || given === "")) throw new InvalidArgumentError('want {"ref": "HOST/REPOSITORY:TAG"} or no ref');
  if (owner !== undefined && (typeof owner !== "string" || owner === "")) throw new InvalidArgumentError('"owner" must be a non-empty string');
  const selector = owner === undefined ? {} : { owner };
  const { imports, exports } = engine.config.cache;
  if (given === undefined && action === "pull") {
    if (imports.length === 0) throw new InvalidArgumentError("no REF given, and the engine's [cache] has no import entry to pull the volume from");
    const result = await pullVolumeFromCache(
      engine.volumeRegistry,
      name,
      imports.map((i) => i.ref),
      { ...selector, replace: body["replace"] === true },
    );
    engine.log.info("cache volume pulled", { volume: name, ref: result.ref, replaced: result.replaced });
    return sendJson(res, 200, { volume: name, ...result });
  }
  if (given === undefined && exports.length === 0)
    throw new InvalidArgumentError("no REF given, and the engine's [cache] has no export entry to push the volume to");
  const reference = given === undefined ? volumeRef(exports[0]!.ref, name, selector) : parseReference(given);
  const ref = given ?? `${reference.domain}/${reference.repository}:${reference.tag}`;
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
