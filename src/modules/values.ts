/**
 * The module API's objects (TypeDef, Function, Module, ModuleSource, Error…)
 * are immutable JSON data behind one class, so each has an ID (the data
 * itself, through the core's ID codec) and loads back from it. Their
 * registry extends the core's, so `node(id:)` finds core and module objects.
 */
import { coreObjectTypes } from "../core/core-objects.js";
import { encodeId, type Identified } from "../core/ids.js";
import type { ObjectTypes } from "../core/object-types.js";
import { Directory } from "../core/values.js";
import { InvalidArgumentError } from "../errors.js";
import type { Vertex } from "../solver/types.js";
import type { Zod } from "../util/zod.js";
import type { ModuleConfig } from "./config.js";
import type { ArgData, EnumDefData, FieldDefData, FunctionData, ObjectDefData, SourceMapData, TypeDefData } from "./typedefs.js";

export class ModValue<T> implements Identified {
  constructor(
    readonly typename: string,
    readonly data: T,
  ) {}
  toJSON(): unknown {
    return this.data;
  }
  get id(): string {
    return encodeId(this);
  }
}

/** A directory inside module data: the shape Directory's ID state has. */
export interface DirRef {
  source?: Vertex;
  path: string;
}
export const dirOf = (d: DirRef): Directory => new Directory(d.source, d.path);
export const refOf = (d: Directory): DirRef => ({ ...(d.source ? { source: d.source } : {}), path: d.path });

export type SourceKind = "LOCAL_SOURCE" | "GIT_SOURCE" | "DIR_SOURCE";

export interface SourceData {
  kind: SourceKind;
  /** The ref as given (local: path relative to the caller's directory; git: URL[@version]). */
  refString: string;
  /** The context directory: git root (or repository tree), else the source root. */
  context: DirRef;
  /** dagger.json's directory relative to the context. */
  rootSubpath: string;
  configExists: boolean;
  config: ModuleConfig;
  /** Client path of the context directory (local sources). */
  localContextPath?: string;
  git?: { url: string; version: string; commit: string; htmlRepoUrl?: string };
  /** Dependencies resolved (from dagger.json or withDependencies). */
  dependencies: SourceData[];
  digest: string;
  /** The name in the module's own dagger.json, when a dependent renamed it. */
  originalName?: string;
}

export interface ModuleData {
  name: string;
  originalName: string;
  description: string;
  sdk?: string;
  objects: TypeDefData[];
  interfaces: TypeDefData[];
  enums: TypeDefData[];
  source?: SourceData;
  dependencies: ModuleData[];
  /** The module's types were registered (asModule ran its registration call). */
  registered?: boolean;
}

export interface ErrorData {
  message: string;
  values: Array<{ name: string; value: string }>;
}

export interface FunctionCallData {
  name: string;
  parentName: string;
  /** JSON text. */
  parent: string;
  inputArgs: Array<{ name: string; value: string }>;
}

export type TypeDefValue = ModValue<TypeDefData>;
export type FunctionValue = ModValue<FunctionData>;

const anyObject = (z: Zod) => z.custom<Record<string, unknown>>((v) => v !== null && typeof v === "object" && !Array.isArray(v), "must be an object");

export const MODULE_API_TYPES = [
  "TypeDef",
  "ObjectTypeDef",
  "InterfaceTypeDef",
  "InputTypeDef",
  "FieldTypeDef",
  "Function",
  "FunctionArg",
  "EnumTypeDef",
  "EnumValueTypeDef",
  "ListTypeDef",
  "ScalarTypeDef",
  "SourceMap",
  "Module",
  "ModuleSource",
  "SDKConfig",
  "FunctionCall",
  "FunctionCallArgValue",
  "CurrentModule",
] as const;

/** Core types plus the module API's. */
export const moduleApiTypes: ObjectTypes = coreObjectTypes.extend();
for (const t of MODULE_API_TYPES) moduleApiTypes.register(t, anyObject, (s) => new ModValue(t, s));

export function loadValue<T>(id: unknown, typename: (typeof MODULE_API_TYPES)[number]): ModValue<T> {
  if (typeof id !== "string") throw new InvalidArgumentError(`want a ${typename} ID, got ${JSON.stringify(id)}`);
  return moduleApiTypes.load(id, typename) as ModValue<T>;
}

export type { ArgData, EnumDefData, FieldDefData, FunctionData, ObjectDefData, SourceMapData, TypeDefData };
