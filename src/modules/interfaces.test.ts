import assert from "node:assert/strict";
import { test } from "node:test";
import { buildApiSchema } from "../schema/build.js";
import { baseParts } from "./base-parts.js";
import { conversionField, conversionParts, IfaceValue, implementsInterface, loadAsInterface, noteServed } from "./interfaces.js";
import { ModObject } from "./mod-object.js";
import { servedParts } from "./serve.js";
import type { ArgData, FunctionData, ObjectDefData, TypeDefData } from "./typedefs.js";
import type { ModuleData, SourceData } from "./values.js";

const str: TypeDefData = { kind: "STRING_KIND", optional: false };
const int: TypeDefData = { kind: "INTEGER_KIND", optional: false };
const arg = (name: string, typeDef: TypeDefData, extra: Partial<ArgData> = {}): ArgData => ({ name, originalName: name, description: "", typeDef, ...extra });
const fn = (name: string, returnType: TypeDefData, args: ArgData[] = []): FunctionData => ({ name, originalName: name, description: "", returnType, args });
const def = (name: string, functions: FunctionData[]): ObjectDefData => ({ name, originalName: name, description: "", fields: [], functions });
const ifaceRef = (name: string): TypeDefData => ({ kind: "INTERFACE_KIND", optional: false, iface: def(name, []) });
const source = (name: string): SourceData => ({
  kind: "DIR_SOURCE",
  refString: ".",
  context: { path: "/" },
  rootSubpath: ".",
  configExists: true,
  config: { name, engineVersion: "v0.21.8" } as SourceData["config"],
  dependencies: [],
  digest: `sha256:${name}`,
});
const mod = (name: string, objects: ObjectDefData[], interfaces: ObjectDefData[] = []): ModuleData => ({
  name,
  originalName: name,
  description: "",
  objects: objects.map((object) => ({ kind: "OBJECT_KIND", optional: false, object })),
  interfaces: interfaces.map((iface) => ({ kind: "INTERFACE_KIND", optional: false, iface })),
  enums: [],
  dependencies: [],
  source: source(name),
  registered: true,
});

const fooer = def("MyModuleFooer", [fn("foo", str, [arg("bar", int)])]);
const none = new Map<string, ObjectDefData>();

test("an object implements an interface when it has each function with the same arguments and a fitting result", () => {
  const ifaces = new Map([[fooer.name, fooer]]);
  assert.equal(implementsInterface(def("Example", [fn("foo", str, [arg("bar", int)])]), fooer, ifaces, none), true);
  // Extra arguments are fine when optional.
  assert.equal(
    implementsInterface(def("Extra", [fn("foo", str, [arg("bar", int), arg("loud", { kind: "BOOLEAN_KIND", optional: true })])]), fooer, ifaces, none),
    true,
  );
  assert.equal(
    implementsInterface(def("Required", [fn("foo", str, [arg("bar", int), arg("loud", { kind: "BOOLEAN_KIND", optional: false })])]), fooer, ifaces, none),
    false,
  );
  assert.equal(implementsInterface(def("Renamed", [fn("foo", str, [arg("baz", int)])]), fooer, ifaces, none), false);
  assert.equal(implementsInterface(def("OtherResult", [fn("foo", int, [arg("bar", int)])]), fooer, ifaces, none), false);
  assert.equal(implementsInterface(def("Missing", [fn("bar", str)]), fooer, ifaces, none), false);
  // A function returning the interface is met by one returning an object that implements it.
  const chain = def("MyModuleChain", [fn("next", ifaceRef("MyModuleChain"))]);
  const link = def("Link", [fn("next", { kind: "OBJECT_KIND", optional: false, object: def("Link", []) })]);
  const objects = new Map([[link.name, link]]);
  assert.equal(implementsInterface(link, chain, new Map([[chain.name, chain]]), objects), true);
});

test("conversion fields join objects to the interfaces they implement, once per session", () => {
  const declaring = mod("my-module", [def("MyModule", [fn("foo", str, [arg("fooer", ifaceRef("MyModuleFooer"))])])], [fooer]);
  const implementing = mod("example", [def("Example", [fn("foo", str, [arg("bar", int)])]), def("Quiet", [fn("hush", str)])]);
  const done = new Set<string>();
  const parts = conversionParts([declaring, implementing], done);
  assert.equal(parts.length, 1);
  assert.deepEqual([...done], ["Example.MyModuleFooer"]);
  assert.equal(conversionField("MyModuleFooer"), "asMyModuleFooer");
  assert.deepEqual(conversionParts([declaring, implementing], done), []);

  // The parts build into one schema: the interface is an object type with an ID and a loader.
  const built = buildApiSchema([...baseParts(), ...servedParts(declaring), ...servedParts(implementing), ...parts]);
  const schema = built.schema;
  assert.ok(schema.getQueryType()!.getFields()["loadMyModuleFooerFromID"]);
  assert.equal(String(schema.getQueryType()!.getFields()["myModule"]!.type), "MyModule!");
  assert.equal(String((schema.getType("MyModule") as import("graphql").GraphQLObjectType).getFields()["foo"]!.args[0]!.type), "MyModuleFooerID!");
  const example = schema.getType("Example") as import("graphql").GraphQLObjectType;
  assert.equal(String(example.getFields()["asMyModuleFooer"]!.type), "MyModuleFooer!");
  assert.equal((schema.getType("Quiet") as import("graphql").GraphQLObjectType).getFields()["asMyModuleFooer"], undefined);

  // Converting keeps the object's fields and names its module, and the value's ID loads back.
  const resolve = parts[0]!.resolvers!["Example"]!["asMyModuleFooer"] as (x: { typename: string; fields: Record<string, unknown> }) => IfaceValue;
  const v = resolve({ typename: "Example", fields: { n: 1 } });
  assert.equal(v.typename, "MyModuleFooer");
  const back = IfaceValue.load(v.id, "MyModuleFooer");
  assert.deepEqual([back.impl, back.fields, back.source.config.name], ["Example", { n: 1 }, "example"]);
  assert.throws(() => IfaceValue.load(v.id, "OtherIface"), /ID is a MyModuleFooer, expected a OtherIface/);
});

test("an interface loads from its own IDs and from those of objects implementing it in the session", () => {
  const declaring = mod("my-module", [def("MyModule", [])], [fooer]);
  const implementing = mod("example", [def("Example", [fn("foo", str, [arg("bar", int)])]), def("Quiet", [fn("hush", str)])]);
  const session = {};
  noteServed(
    session,
    new Map([
      ["my-module", declaring],
      ["example", implementing],
    ]),
  );
  const v = loadAsInterface(new ModObject("Example", { n: 2 }).id, fooer, session);
  assert.deepEqual([v.typename, v.impl, v.fields, v.source.config.name], ["MyModuleFooer", "Example", { n: 2 }, "example"]);
  assert.equal(loadAsInterface(v.id, fooer, session).impl, "Example");
  assert.throws(() => loadAsInterface(new ModObject("Quiet", {}).id, fooer, session), /type Quiet does not implement interface MyModuleFooer/);
  assert.throws(() => loadAsInterface(new ModObject("Example", {}).id, fooer, {}), /not an object type of a module served here/);
});
