/** Turning IDs back into objects, for node(id:), load*FromID and object arguments. */
import type { Container } from "../core/container.js";
import { coreObjectTypes } from "../core/core-objects.js";
import type { Host } from "../core/host.js";
import type { ObjectTypes } from "../core/object-types.js";
import type { Secret } from "../core/secrets.js";
import type { Service } from "../core/service.js";
import type { GitRef, GitRepository } from "../core/sources.js";
import type { CacheVolume, Directory, File, NamedValue, Port, Stat } from "../core/values.js";

export type CoreObject = Container | Directory | File | CacheVolume | NamedValue | Port | Stat | Host | Secret | Service | GitRepository | GitRef;

/** The object an ID names (of type `want`, when given), with the core types or a session's. */
export function loadObject(id: string, want?: string, types: ObjectTypes = coreObjectTypes): CoreObject {
  return types.load(id, want) as CoreObject;
}
