/**
 * Loading a module for `call` and `functions`, as Dagger's CLI does:
 * `moduleSource(refString) { configExists asModule { name serve(
 * includeDependencies: true) } }` so this session's schema gains the module,
 * then the type definitions (typedefs.ts), completed from the schema when
 * they refer to core types they do not list (introspect.ts). Without a
 * module (`-M`), the core API's type definitions alone.
 */
import { FailedPreconditionError, messageOf } from "../../errors.js";
import type { GlobalFlags } from "./argv.js";
import { buildQuery, type Literal, type Step } from "./graphql.js";
import { completeFromSchema } from "./introspect.js";
import type { GraphQL } from "./session.js";
import { buildModel, type ModuleModel, type TypeDefJson, typeDefsQuery } from "./typedefs.js";

export const DEFAULT_MODULE_REF = ".";

/** `-m`, else DAGGER_MODULE, else "."; undefined with `-M`. */
export function moduleRef(globals: Pick<GlobalFlags, "mod" | "noMod">, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (globals.noMod) return undefined;
  if (globals.mod !== undefined && globals.mod !== "") return globals.mod;
  const fromEnv = env["DAGGER_MODULE"];
  if (fromEnv !== undefined) return fromEnv;
  return DEFAULT_MODULE_REF;
}

export const sourceStep = (ref: string, opts: Array<[string, Literal]> = []): Step => ({
  field: "moduleSource",
  args: [["refString", ref], ...opts],
});

export async function loadModule(gql: GraphQL, ref: string | undefined): Promise<ModuleModel> {
  if (ref === undefined) {
    let typeDefs: TypeDefJson[];
    try {
      typeDefs = (await gql.query<{ typeDefs: TypeDefJson[] }>(typeDefsQuery(false))).typeDefs;
    } catch (err) {
      // An engine without the module API: the core API from introspection alone.
      if (!/Cannot query field "currentTypeDefs"/.test(messageOf(err))) throw err;
      typeDefs = [{ kind: "OBJECT_KIND", optional: false, asObject: { name: "Query", constructor: null, functions: [], fields: [] } }];
    }
    const model = buildModel(typeDefs, "");
    await completeFromSchema(gql, model, true);
    return model;
  }
  // One request resolves the source once and serves it; only when it fails does a second one
  // tell a missing dagger.json from a module that does not load.
  let name: string;
  try {
    const data = await gql.query<{ moduleSource: { configExists: boolean; asModule: { name: string } } }>(
      buildQuery([sourceStep(ref)], "configExists asModule { name serve(includeDependencies: true) }"),
    );
    if (data.moduleSource.configExists !== true) throw new FailedPreconditionError(`module not found: no dagger.json for ${JSON.stringify(ref)}`);
    name = data.moduleSource.asModule.name;
  } catch (err) {
    if (err instanceof FailedPreconditionError) throw err;
    let exists: unknown;
    try {
      exists = await gql.select([sourceStep(ref), { field: "configExists" }]);
    } catch (again) {
      throw new FailedPreconditionError(`failed to get configured module: ${messageOf(again)}`, { cause: again });
    }
    if (exists !== true) throw new FailedPreconditionError(`module not found: no dagger.json for ${JSON.stringify(ref)}`);
    throw new FailedPreconditionError(`failed to serve module: ${messageOf(err)}`, { cause: err });
  }
  const data = await gql.query<{ typeDefs: TypeDefJson[] }>(typeDefsQuery(true));
  const model = buildModel(data.typeDefs, name);
  await completeFromSchema(gql, model, false);
  return model;
}
