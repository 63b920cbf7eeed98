/**
 * The schema every session starts from once modules exist: the core parts
 * and the module API (type definitions, modules, module sources).
 */
import { coreParts } from "../schema/core-parts.js";
import type { SchemaPart } from "../schema/types.js";
import { moduleDirectoryResolvers, moduleQueryResolvers, moduleResolvers } from "./module-resolvers.js";
import { moduleSDL } from "./module-sdl.js";
import { typeDefQueryResolvers, typeDefResolvers } from "./typedef-resolvers.js";
import { typeDefSDL } from "./typedef-sdl.js";
import { MODULE_API_TYPES, moduleApiTypes } from "./values.js";

const loaders = Object.fromEntries(MODULE_API_TYPES.map((t) => [t, (id: string) => moduleApiTypes.load(id, t)]));

let parts: SchemaPart[] | undefined;

/** The module API's parts (built once, on first use). */
export function moduleApiParts(): SchemaPart[] {
  parts ??= [
    { name: "typedefs", sdl: typeDefSDL, resolvers: { Query: typeDefQueryResolvers, ...typeDefResolvers }, loaders: pick(loaders, typeDefResolvers) },
    {
      name: "modules",
      sdl: moduleSDL,
      resolvers: { Query: moduleQueryResolvers, Directory: moduleDirectoryResolvers, ...moduleResolvers },
      loaders: pick(loaders, moduleResolvers),
    },
  ];
  return parts;
}

function pick<T>(all: Record<string, T>, types: Record<string, unknown>): Record<string, T> {
  return Object.fromEntries(Object.keys(types).flatMap((k) => (all[k] ? [[k, all[k]]] : [])));
}

export function baseParts(): SchemaPart[] {
  return [...coreParts, ...moduleApiParts()];
}
