import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from "graphql";
import { buildApiSchema } from "./build.js";
import { CODEGEN_INTROSPECTION_QUERY as DAGGER_INTROSPECTION } from "./codegen-introspection.js";
import { coreParts } from "./core-parts.js";
import { runQuery as runRaw } from "./run-query.js";
import { SessionSchema } from "./session-schema.js";
import { pureContext, toyPart } from "./testing.js";

interface Applied {
  name: string;
  args: Array<{ name: string; value: string | null }>;
}
interface InputValue {
  name: string;
  defaultValue: string | null;
  isDeprecated: boolean;
  deprecationReason: string | null;
  directives: Applied[];
}
interface FullType {
  kind: string;
  name: string;
  description: string | null;
  fields: Array<{ name: string; args: InputValue[]; isDeprecated: boolean; directives: Applied[] }> | null;
  enumValues: Array<{ name: string; isDeprecated: boolean; deprecationReason: string | null; directives: Applied[] }> | null;
  interfaces: Array<{ name: string }> | null;
  directives: Applied[];
}
interface DaggerIntrospection {
  __schemaVersion: string;
  __schema: { queryType: { name: string }; types: FullType[]; directives: Array<{ name: string; args: InputValue[] }> };
}

const ctx = pureContext();
const runQuery = async (...args: Parameters<typeof runRaw>) => JSON.parse(JSON.stringify(await runRaw(...args))) as { data?: unknown; errors?: unknown[] };
const core = buildApiSchema(coreParts);

async function introspect(schema = core): Promise<DaggerIntrospection> {
  const r = await runQuery(schema, { query: DAGGER_INTROSPECTION }, ctx);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return r.data as DaggerIntrospection;
}

const typeNamed = (i: DaggerIntrospection, name: string): FullType => {
  const t = i.__schema.types.find((x) => x.name === name);
  assert.ok(t, `type ${name} is listed`);
  return t;
};

describe("introspection for Dagger's code generators", () => {
  test("Dagger's query runs: __schemaVersion, types, directive definitions", async () => {
    const i = await introspect();
    assert.equal(Object.keys(i)[0], "__schemaVersion");
    assert.equal(i.__schemaVersion, "v0.21.9");
    assert.equal(i.__schema.queryType.name, "Query");
    const query = typeNamed(i, "Query");
    assert.ok(!query.fields!.some((f) => f.name.startsWith("__")), "__schemaVersion is not a listed field");
    const defs = Object.fromEntries(i.__schema.directives.map((d) => [d.name, d.args.map((a) => a.name)]));
    assert.deepEqual(defs["expectedType"], ["name"]);
    assert.deepEqual(defs["sourceMap"], ["module", "filename", "line", "column", "url"]);
    assert.deepEqual(defs["experimental"], ["reason"]);
    for (const d of ["deprecated", "enumValue", "defaultPath", "defaultAddress", "ignorePatterns"]) assert.ok(defs[d], `@${d} is defined`);
    const container = typeNamed(i, "Container");
    assert.deepEqual(container.directives, []);
    assert.deepEqual(container.interfaces, [{ kind: "INTERFACE", name: "Node", ofType: null }]);
  });

  test("object-ID arguments and fields carry @expectedType", async () => {
    const i = await introspect();
    const container = typeNamed(i, "Container");
    const cache = container.fields!.find((f) => f.name === "withMountedCache")!.args.find((a) => a.name === "cache")!;
    assert.deepEqual(cache.directives, [{ name: "expectedType", args: [{ name: "name", value: '"CacheVolume"' }] }]);
    const sync = container.fields!.find((f) => f.name === "sync")!;
    assert.deepEqual(sync.directives, [{ name: "expectedType", args: [{ name: "name", value: '"Container"' }] }]);
    const withFiles = container.fields!.find((f) => f.name === "withFiles")!.args.find((a) => a.name === "sources")!;
    assert.deepEqual(withFiles.directives, [{ name: "expectedType", args: [{ name: "name", value: '"File"' }] }]);
    const load = typeNamed(i, "Query").fields!.find((f) => f.name === "loadGitRefFromID")!;
    assert.deepEqual(load.args[0]!.directives, [{ name: "expectedType", args: [{ name: "name", value: '"GitRef"' }] }]);
    const ownId = container.fields!.find((f) => f.name === "id")!;
    assert.deepEqual(ownId.directives, [{ name: "expectedType", args: [{ name: "name", value: '"Container"' }] }]);
    const path = container.fields!.find((f) => f.name === "withExec")!.args.find((a) => a.name === "args")!;
    assert.deepEqual(path.directives, []);
  });

  test("directives applied in a session's SDL show on types, fields, arguments and enum values, sorted by name", async () => {
    const session = new SessionSchema(() => core);
    session.extend(toyPart);
    const i = await introspect(session.current);
    const toy = typeNamed(i, "Toy");
    assert.equal(toy.description, "A toy, for tests.");
    assert.deepEqual(toy.directives, [
      { name: "experimental", args: [{ name: "reason", value: '"for tests"' }] },
      {
        name: "sourceMap",
        args: [
          { name: "module", value: '"toys"' },
          { name: "filename", value: '"toy.ts"' },
          { name: "line", value: "3" },
          { name: "column", value: "1" },
        ],
      },
    ]);
    const old = toy.fields!.find((f) => f.name === "rename")!.args.find((a) => a.name === "old")!;
    assert.equal(old.isDeprecated, true);
    assert.equal(old.deprecationReason, "use name");
    assert.deepEqual(old.directives, [{ name: "deprecated", args: [{ name: "reason", value: '"use name"' }] }]);
    const kind = typeNamed(i, "ToyKind");
    assert.deepEqual(
      kind.enumValues!.map((v) => [v.name, v.isDeprecated, v.directives.map((d) => d.name)]),
      [
        ["PLUSH", false, ["enumValue"]],
        ["WOOD", false, []],
        ["TIN", true, ["deprecated"]],
      ],
    );
    const toyField = typeNamed(i, "Query").fields!.find((f) => f.name === "toy")!;
    const box = toyField.args.find((a) => a.name === "box")!;
    assert.deepEqual(
      box.directives.map((d) => d.name),
      ["defaultPath", "expectedType"],
    );
    assert.equal(toyField.args.find((a) => a.name === "kind")!.defaultValue, "PLUSH");
    assert.ok(typeNamed(i, "Query").fields!.some((f) => f.name === "loadToyFromID"));
  });

  test("graphql-js's standard introspection works and rebuilds as a client schema", async () => {
    const r = await runQuery(core, { query: getIntrospectionQuery({ inputValueDeprecation: true, descriptions: true }) }, ctx);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const client = buildClientSchema(r.data as IntrospectionQuery);
    assert.equal(String(client.getQueryType()!.getFields()["loadServiceFromID"]!.type), "Service!");
    assert.ok(!(r.data as IntrospectionQuery).__schema.types.some((t) => t.name.startsWith("_Directive")), "helper types stay out of __schema.types");
  });

  test("__schemaVersion alone, aliased, and in a named operation", async () => {
    assert.deepEqual(await runQuery(core, { query: "{ __schemaVersion }" }, ctx), { data: { __schemaVersion: "v0.21.9" } });
    assert.deepEqual(await runQuery(core, { query: "{ version v: __schemaVersion }" }, ctx), { data: { version: "0.1.0", v: "v0.21.9" } });
    const two = "query A { __schemaVersion } query B { version }";
    assert.deepEqual(await runQuery(core, { query: two, operationName: "B" }, ctx), { data: { version: "0.1.0" } });
    assert.deepEqual(await runQuery(core, { query: two, operationName: "A" }, ctx), { data: { __schemaVersion: "v0.21.9" } });
    assert.match(
      JSON.stringify(await runQuery(core, { query: "{ container { __schemaVersion } }" }, ctx)),
      /Cannot query field \\"__schemaVersion\\" on type \\"Container\\"/,
    );
  });
});
