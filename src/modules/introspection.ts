/**
 * The introspection JSON an SDK's code generator reads (MODULES.md §10):
 * Dagger's codegen query run against the schema a module's code sees — the
 * core API and the module API, plus its dependencies' types.
 */
import type { RequestContext } from "../core/types.js";
import { EngineError } from "../errors.js";
import { digestOf } from "../oci/digest.js";
import { type BuiltSchema, buildApiSchema } from "../schema/build.js";
import { CODEGEN_INTROSPECTION_QUERY } from "../schema/codegen-introspection.js";
import { runQuery } from "../schema/run-query.js";
import type { SchemaPart } from "../schema/types.js";
import { baseParts } from "./base-parts.js";
import { conversionParts } from "./interfaces.js";
import { BoundedMemo } from "./memo.js";
import { servedParts } from "./serve.js";
import type { ModuleData } from "./values.js";

/** Types a module's code does not get (core/moddeps.go). */
const HIDDEN = /^(Host|Engine|EngineCache.*)$/;

export async function introspectionJson(ctx: RequestContext, built: BuiltSchema): Promise<string> {
  const r = await runQuery(built, { query: CODEGEN_INTROSPECTION_QUERY }, ctx);
  if (r.errors?.length || !r.data) throw new EngineError(`introspection failed: ${JSON.stringify(r.errors)}`);
  const data = r.data as { __schema: { types: Array<{ name: string }> } };
  data.__schema.types = data.__schema.types.filter((t) => !HIDDEN.test(t.name));
  return JSON.stringify(data);
}

/** The schema a module's code sees: core, module API, and its dependencies. */
export function moduleSchemaParts(mod: ModuleData): SchemaPart[] {
  return [...baseParts(), ...mod.dependencies.flatMap((d) => servedParts(d)), ...conversionParts(mod.dependencies, new Set())];
}

/** By what a module's code sees beyond the core: its dependencies' names and types. */
const byDependencies = new BoundedMemo<string>(16);

/** The introspection JSON for a module's code (computed once per set of dependencies while the engine runs). */
export function moduleIntrospectionJson(ctx: RequestContext, mod: ModuleData): Promise<string> {
  const key = digestOf(
    mod.dependencies.map((d) => ({ name: d.name, originalName: d.originalName, objects: d.objects, interfaces: d.interfaces, enums: d.enums })),
  );
  return byDependencies.get(key, () => introspectionJson(ctx, buildApiSchema(moduleSchemaParts(mod))));
}

export { CODEGEN_INTROSPECTION_QUERY };
