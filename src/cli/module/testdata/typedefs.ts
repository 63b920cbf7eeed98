/**
 * A `currentTypeDefs(returnAllTypes: true, hideCore: true)` answer shaped like
 * Dagger's for a TypeScript module "my-module": the main object with a
 * constructor, functions over core types, an enum, lists, a nested module
 * object, a Void function, one function the CLI cannot offer (an input
 * argument), and the Query root with the constructor.
 */
import type { TypeDefJson, TypeRefJson } from "../typedefs.js";

const str: TypeRefJson = { kind: "STRING_KIND", optional: false };
const optStr: TypeRefJson = { kind: "STRING_KIND", optional: true };
const int: TypeRefJson = { kind: "INTEGER_KIND", optional: false };
const obj = (name: string, optional = false): TypeRefJson => ({ kind: "OBJECT_KIND", optional, asObject: { name } });
const list = (elem: TypeRefJson, optional = false): TypeRefJson => ({ kind: "LIST_KIND", optional, asList: { elementTypeDef: elem } });
const arg = (name: string, typeDef: TypeRefJson, extra: Record<string, unknown> = {}) => ({
  name,
  description: "",
  defaultValue: null,
  defaultPath: "",
  ignore: [],
  typeDef,
  ...extra,
});

export const MODULE_TYPEDEFS: TypeDefJson[] = [
  {
    kind: "OBJECT_KIND",
    optional: false,
    asObject: {
      name: "MyModule",
      description: "A module for tests.\n\nMore text.",
      sourceModuleName: "my-module",
      constructor: null,
      fields: [{ name: "greeting", description: "The greeting", typeDef: str }],
      functions: [
        {
          name: "containerEcho",
          description: "Returns a container that echoes whatever string argument is provided",
          returnType: obj("Container"),
          args: [arg("stringArg", str)],
        },
        {
          name: "grepDir",
          description: "Returns lines that match a pattern in the files of the provided Directory",
          returnType: str,
          args: [arg("directoryArg", obj("Directory"), { ignore: ["node_modules"] }), arg("pattern", str)],
        },
        {
          name: "counts",
          description: "",
          returnType: list({ kind: "INTEGER_KIND", optional: false }),
          args: [
            arg("n", int, { defaultValue: "3" }),
            arg("ratio", { kind: "FLOAT_KIND", optional: true }),
            arg("verbose", { kind: "BOOLEAN_KIND", optional: false }, { defaultValue: "false" }),
            arg("tags", list(str), { defaultValue: '["a"]' }),
            arg("level", { kind: "ENUM_KIND", optional: true, asEnum: { name: "MyModuleLevel" } }),
            arg("levels", list({ kind: "ENUM_KIND", optional: false, asEnum: { name: "MyModuleLevel" } }), {
              typeDef: list({ kind: "ENUM_KIND", optional: false, asEnum: { name: "MyModuleLevel" } }, true),
            }),
          ],
        },
        {
          name: "withSecret",
          description: "Reads a secret",
          returnType: str,
          args: [arg("token", obj("Secret")), arg("svc", obj("Service", true)), arg("cache", obj("CacheVolume", true)), arg("files", list(obj("File"), true))],
        },
        { name: "lint", description: "Lints the source", returnType: str, args: [arg("source", obj("Directory"), { defaultPath: "/", ignore: ["dist"] })] },
        { name: "sub", description: "A sub-object", returnType: obj("MyModuleSub"), args: [arg("name", optStr)] },
        { name: "subs", description: "", returnType: list(obj("MyModuleSub")), args: [] },
        { name: "nothing", description: "Returns nothing", returnType: { kind: "VOID_KIND", optional: true }, args: [] },
        {
          name: "build",
          description: "Needs an input",
          returnType: str,
          args: [arg("spec", { kind: "INPUT_KIND", optional: false, asInput: { name: "BuildArg" } })],
        },
      ],
    },
  },
  {
    kind: "OBJECT_KIND",
    optional: false,
    asObject: {
      name: "MyModuleSub",
      description: "",
      sourceModuleName: "my-module",
      constructor: null,
      fields: [{ name: "name", description: "", typeDef: str }],
      functions: [{ name: "dir", description: "", returnType: obj("Directory"), args: [] }],
    },
  },
  {
    kind: "ENUM_KIND",
    optional: false,
    asEnum: {
      name: "MyModuleLevel",
      description: "",
      members: [
        { name: "LOW", description: "" },
        { name: "HIGH", description: "" },
      ],
    },
  },
  {
    kind: "OBJECT_KIND",
    optional: false,
    asObject: {
      name: "Query",
      description: "",
      sourceModuleName: "",
      constructor: null,
      fields: [],
      functions: [{ name: "myModule", description: "", returnType: obj("MyModule"), args: [arg("prefix", optStr, { defaultValue: '"hi"' })] }],
    },
  },
];
