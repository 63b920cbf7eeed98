import assert from "node:assert/strict";
import { test } from "node:test";
import { validateSchema } from "graphql";
import { buildApiSchema } from "../schema/build.js";
import { baseParts } from "./base-parts.js";
import { servedParts } from "./serve.js";
import type { ModuleData } from "./values.js";

test("the core and the module API build into one schema, with IDs and loaders for module API types", () => {
  // Without `trusted`: graphql validates the SDL the engine builds unchecked at start.
  const built = buildApiSchema(baseParts());
  assert.deepEqual(
    validateSchema(built.schema).map((e) => e.message),
    [],
  );
  for (const t of ["TypeDef", "Function", "Module", "ModuleSource", "FunctionCall", "Error", "CurrentModule"]) {
    assert.ok(built.objectTypes.includes(t), t);
    assert.ok(built.schema.getQueryType()!.getFields()[`load${t}FromID`], `load${t}FromID`);
  }
});

test("a served module adds its constructor, objects, fields, functions and enums", () => {
  const str = { kind: "STRING_KIND" as const, optional: false };
  const obj = (name: string) => ({
    kind: "OBJECT_KIND" as const,
    optional: false,
    object: { name, originalName: name, description: "", fields: [], functions: [] },
  });
  const mod: ModuleData = {
    name: "my-mod",
    originalName: "my-mod",
    description: "",
    objects: [
      {
        kind: "OBJECT_KIND",
        optional: false,
        object: {
          name: "MyMod",
          originalName: "MyMod",
          description: "main",
          fields: [{ name: "tag", originalName: "tag", description: "", typeDef: str }],
          functions: [
            {
              name: "build",
              originalName: "build",
              description: "",
              returnType: obj("Container"),
              args: [
                { name: "src", originalName: "src", description: "", typeDef: obj("Directory") },
                {
                  name: "color",
                  originalName: "color",
                  description: "",
                  typeDef: { kind: "ENUM_KIND", optional: false, enumDef: { name: "MyModColor", originalName: "Color", description: "", members: [] } },
                  defaultValue: '"RED"',
                },
              ],
            },
          ],
          ctor: {
            name: "",
            originalName: "",
            description: "",
            returnType: obj("MyMod"),
            args: [{ name: "tag", originalName: "tag", description: "", typeDef: str, defaultValue: '"x"' }],
          },
        },
      },
    ],
    interfaces: [],
    enums: [
      {
        kind: "ENUM_KIND",
        optional: false,
        enumDef: { name: "MyModColor", originalName: "Color", description: "", members: [{ name: "RED", originalName: "red", value: "red", description: "" }] },
      },
    ],
    dependencies: [],
    registered: true,
  };
  const built = buildApiSchema([...baseParts(), ...servedParts(mod)]);
  const q = built.schema.getQueryType()!.getFields();
  assert.equal(String(q["myMod"]!.type), "MyMod!");
  assert.equal(q["myMod"]!.args[0]!.defaultValue, "x");
  const build = (built.schema.getType("MyMod") as import("graphql").GraphQLObjectType).getFields()["build"]!;
  assert.equal(String(build.type), "Container!");
  assert.deepEqual(
    build.args.map((a) => `${a.name}: ${String(a.type)}`),
    ["src: DirectoryID!", "color: MyModColor"],
  );
  assert.ok(q["loadMyModFromID"]);
});
