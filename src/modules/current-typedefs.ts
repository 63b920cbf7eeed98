/**
 * `currentTypeDefs` (core/schema/module.go): the types a client's schema
 * serves beyond the core, as TypeDefs — first `Query`, whose functions are
 * the served modules' constructors (sourceModuleName = the module), then the
 * modules' objects, and with returnAllTypes their enums and interfaces too.
 * Core types are not listed (hideCore is what the CLI asks for).
 */
import type { RequestContext } from "../core/types.js";
import { constructorFunction } from "./serve.js";
import { servedModules } from "./served.js";
import type { TypeDefData } from "./typedefs.js";

export function currentTypeDefs(ctx: RequestContext, returnAllTypes: boolean, _hideCore: boolean): TypeDefData[] {
  const mods = servedModules(ctx.session);
  const query: TypeDefData = {
    kind: "OBJECT_KIND",
    optional: false,
    object: {
      name: "Query",
      originalName: "Query",
      description: "",
      fields: [],
      functions: mods.flatMap((m) => {
        const f = constructorFunction(m);
        return f ? [f] : [];
      }),
    },
  };
  const types = mods.flatMap((m) => [...m.objects, ...(returnAllTypes ? [...m.enums, ...m.interfaces] : [])]);
  return [query, ...types];
}
