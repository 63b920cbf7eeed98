/**
 * `currentTypeDefs` (core/schema/module.go): the types a client's schema
 * serves beyond the core, as TypeDefs — first `Query`, whose functions are
 * the served modules' constructors (sourceModuleName = the module), then the
 * modules' objects, and with returnAllTypes their enums and interfaces and
 * every core type (so that results can be chained: Container.stdout).
 * hideCore leaves the core's own Query functions out.
 */
import type { GraphQLSchema } from "graphql";
import type { RequestContext } from "../core/types.js";
import { fieldFunction, schemaTypeDefs } from "./schema-typedefs.js";
import { constructorFunction } from "./serve.js";
import { servedModules } from "./served.js";
import type { TypeDefData } from "./typedefs.js";

export function currentTypeDefs(ctx: RequestContext, schema: GraphQLSchema, returnAllTypes: boolean, hideCore: boolean): TypeDefData[] {
  const mods = servedModules(ctx.session);
  const constructors = new Set(mods.map((m) => constructorFunction(m)?.name));
  const coreQuery = hideCore
    ? []
    : Object.values(schema.getQueryType()!.getFields())
        .filter((f) => !constructors.has(f.name))
        .map((f) => fieldFunction(schema, f));
  const query: TypeDefData = {
    kind: "OBJECT_KIND",
    optional: false,
    object: {
      name: "Query",
      originalName: "Query",
      description: "",
      fields: [],
      functions: [
        ...coreQuery,
        ...mods.flatMap((m) => {
          const f = constructorFunction(m);
          return f ? [f] : [];
        }),
      ],
    },
  };
  const types = mods.flatMap((m) => [...m.objects, ...(returnAllTypes ? [...m.enums, ...m.interfaces] : [])]);
  if (!returnAllTypes) return [query, ...types];
  const own = new Set(mods.flatMap((m) => [...m.objects, ...m.enums, ...m.interfaces].map((t) => t.object?.name ?? t.enumDef?.name ?? t.iface?.name ?? "")));
  return [query, ...types, ...schemaTypeDefs(schema, own)];
}
