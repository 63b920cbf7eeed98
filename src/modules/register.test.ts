import assert from "node:assert/strict";
import { test } from "node:test";
import { checkSignatures, namespaceModule } from "./register.js";
import type { FunctionData, TypeDefData } from "./typedefs.js";
import type { ModuleData } from "./values.js";

const str: TypeDefData = { kind: "STRING_KIND", optional: false };
const ref = (name: string): TypeDefData => ({
  kind: "OBJECT_KIND",
  optional: false,
  object: { name, originalName: name, description: "", fields: [], functions: [] },
});
const fn = (name: string, returnType: TypeDefData, args: FunctionData["args"] = []): FunctionData => ({
  name,
  originalName: name,
  description: "",
  returnType,
  args,
});
const obj = (name: string, functions: FunctionData[]): TypeDefData => ({
  kind: "OBJECT_KIND",
  optional: false,
  object: { name, originalName: name, description: "", fields: [], functions },
});
const mod = (name: string, objects: TypeDefData[], dependencies: ModuleData[] = []): ModuleData => ({
  name,
  originalName: name,
  description: "",
  objects,
  interfaces: [],
  enums: [],
  dependencies,
});

test("registered types are namespaced and references to them renamed", () => {
  const m = namespaceModule(mod("foo", [obj("Foo", [fn("bar", ref("Bar"))]), obj("Bar", [fn("n", str)])]));
  assert.deepEqual(
    m.objects.map((t) => t.object!.name),
    ["Foo", "FooBar"],
  );
  assert.equal(m.objects[0]!.object!.functions[0]!.returnType.object!.name, "FooBar");
  assert.equal(m.objects[0]!.object!.functions[0]!.sourceModuleName, "foo");
});

test("a function may not take or return a dependency's type", () => {
  const dep = namespaceModule(mod("dep", [obj("Dep", [fn("n", str)])]));
  assert.throws(() => checkSignatures(mod("app", [obj("App", [fn("get", ref("Dep"))])]), [dep]), /function App\.get uses type Dep of dependency "dep"/);
  assert.throws(
    () => checkSignatures(mod("app", [obj("App", [fn("take", str, [{ name: "d", originalName: "d", description: "", typeDef: ref("Dep") }])])]), [dep]),
    /argument d of App\.take/,
  );
  checkSignatures(mod("app", [obj("App", [fn("get", ref("Container"))])]), [dep]);
});
