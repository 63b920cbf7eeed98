import assert from "node:assert/strict";
import { test } from "node:test";
import { Kind, parse, type StringValueNode } from "graphql";
import { buildQuery, literal, pluck, stringLiteral } from "./graphql.js";
import { kebab, lowerCamel, pascal } from "./names.js";
import { hostPath, objectSteps, parseGitUrl, secretUri } from "./object-args.js";
import { typeDefsQuery } from "./typedefs.js";

test("names: kebab-case flags and commands, lowerCamel fields, PascalCase types (strcase rules)", () => {
  assert.equal(kebab("containerEcho"), "container-echo");
  assert.equal(kebab("stringArg"), "string-arg");
  assert.equal(kebab("JSONData"), "json-data");
  assert.equal(kebab("userID"), "user-id");
  assert.equal(kebab("A1B"), "a-1-b");
  assert.equal(kebab("version2"), "version-2");
  assert.equal(kebab("already-kebab"), "already-kebab");
  assert.equal(kebab("snake_case_name"), "snake-case-name");
  assert.equal(lowerCamel("my-module"), "myModule");
  assert.equal(lowerCamel("MyModule"), "myModule");
  assert.equal(lowerCamel("hello"), "hello");
  assert.equal(pascal("my-module"), "MyModule");
  assert.equal(pascal("my_module2x"), "MyModule2X");
});

test("string literals survive GraphQL parsing unchanged: quotes, backslashes, newlines, control characters, unicode", () => {
  const samples = [
    "plain",
    'say "hi"',
    "back\\slash",
    "line1\nline2\r\n",
    "tab\there",
    "\u0000\u0001\u001f\u007f",
    "é ünïcødé 🚀 \u2028",
    "${x} #{y} { z }",
    "",
  ];
  for (const s of samples) {
    const doc = parse(`{ f(a: ${stringLiteral(s)}) }`);
    const field = (doc.definitions[0] as unknown as { selectionSet: { selections: Array<{ arguments: Array<{ value: StringValueNode }> }> } }).selectionSet
      .selections[0]!;
    const value = field.arguments[0]!.value;
    assert.equal(value.kind, Kind.STRING);
    assert.equal(value.value, s, `round trip of ${JSON.stringify(s)}`);
  }
});

test("literals: numbers, booleans, null, enums bare, lists, input objects; bad names and non-finite numbers refused", () => {
  assert.equal(literal(3), "3");
  assert.equal(literal(-2.5), "-2.5");
  assert.equal(literal(1e21), "1e+21");
  assert.equal(literal(true), "true");
  assert.equal(literal(null), "null");
  assert.equal(literal({ enum: "HIGH" }), "HIGH");
  assert.equal(literal(["a", 1, { enum: "TCP" }]), '["a", 1, TCP]');
  assert.equal(literal({ fields: { frontend: 80, protocol: { enum: "TCP" } } }), "{frontend: 80, protocol: TCP}");
  assert.throws(() => literal({ enum: "NOT VALID" }), /not a valid enum value name/);
  assert.throws(() => literal(Number.NaN), /cannot be sent as a GraphQL number/);
  assert.throws(() => literal({ fields: { "bad key": 1 } }), /not a valid GraphQL name/);
  parse(`{ f(a: ${literal(1e21)}, b: ${literal(-0.000001)}) }`);
});

test("buildQuery nests the chain, aliases the leaf, and pluck follows it through lists", () => {
  const steps = [{ field: "myModule", args: [["prefix", "x"]] as Array<[string, string]> }, { field: "subs" }, { field: "sync", alias: "id" }];
  assert.equal(buildQuery(steps), 'query { myModule(prefix: "x") { subs { id: sync } } }');
  assert.deepEqual(pluck({ myModule: { subs: [{ id: "a" }, { id: "b" }] } }, steps), ["a", "b"]);
  assert.equal(
    buildQuery([{ field: "moduleSource", args: [["refString", "."]] }], "configExists sourceRootSubpath"),
    'query { moduleSource(refString: ".") { configExists sourceRootSubpath } }',
  );
  assert.throws(() => buildQuery([{ field: "bad field" }]), /not a valid GraphQL name/);
});

test("the typedefs query is Dagger's shape and valid GraphQL", () => {
  for (const hide of [true, false]) {
    const q = typeDefsQuery(hide);
    parse(q);
    assert.match(q, new RegExp(`typeDefs: currentTypeDefs\\(returnAllTypes: true, hideCore: ${hide}\\)`));
    assert.match(q, /fragment FunctionParts on Function/);
    assert.match(q, /sourceModuleName/);
  }
});

test("object flags become Dagger's core calls ending in id", () => {
  const cwd = "/work/here";
  const home = "/home/u";
  assert.deepEqual(objectSteps("Directory", "./src", { cwd, ignore: ["node_modules", "*.log"] }), [
    { field: "host" },
    {
      field: "directory",
      args: [
        ["path", "/work/here/src"],
        ["exclude", ["node_modules", "*.log"]],
      ],
    },
    { field: "id" },
  ]);
  assert.deepEqual(objectSteps("Directory", "file:///abs/dir", { cwd }), [
    { field: "host" },
    { field: "directory", args: [["path", "/abs/dir"]] },
    { field: "id" },
  ]);
  assert.deepEqual(objectSteps("File", "~/notes.txt", { cwd, home }), [
    { field: "host" },
    { field: "file", args: [["path", "/home/u/notes.txt"]] },
    { field: "id" },
  ]);
  assert.deepEqual(objectSteps("Container", "alpine:3.20", { cwd }), [
    { field: "container" },
    { field: "from", args: [["address", "alpine:3.20"]] },
    { field: "id" },
  ]);
  assert.deepEqual(objectSteps("Secret", "TOKEN", { cwd }), [{ field: "secret", args: [["uri", "env://TOKEN"]] }, { field: "id" }]);
  assert.deepEqual(objectSteps("CacheVolume", "npm", { cwd }), [{ field: "cacheVolume", args: [["key", "npm"]] }, { field: "id" }]);
  assert.deepEqual(objectSteps("Service", "tcp://localhost:8080", { cwd }), [
    { field: "host" },
    {
      field: "service",
      args: [
        ["ports", [{ fields: { frontend: 8080, backend: 8080, protocol: { enum: "TCP" } } }]],
        ["host", "localhost"],
      ],
    },
    { field: "id" },
  ]);
  assert.deepEqual(objectSteps("Directory", "https://github.com/dagger/dagger#v0.9.0:docs", { cwd }), [
    {
      field: "git",
      args: [
        ["url", "https://github.com/dagger/dagger"],
        ["keepGitDir", true],
      ],
    },
    { field: "ref", args: [["name", "v0.9.0"]] },
    { field: "tree" },
    { field: "directory", args: [["path", "docs"]] },
    { field: "id" },
  ]);
  assert.deepEqual(
    objectSteps("Directory", "git@github.com:dagger/dagger.git", { cwd }).map((s) => s.field),
    ["git", "head", "tree", "id"],
  );
  assert.deepEqual(
    objectSteps("File", "https://example.com/r.git#main:README.md", { cwd }).map((s) => s.field),
    ["git", "branch", "tree", "file", "id"],
  );
  assert.throws(() => objectSteps("File", "https://example.com/r.git", { cwd }), /expected path selection for git repo/);
  assert.throws(() => objectSteps("Service", "http://x:1", { cwd }), /tcp:\/\/ or udp:\/\//);
  const udp = objectSteps("Service", "udp://[::1]:53", { cwd });
  assert.equal(buildQuery(udp), 'query { host { service(ports: [{frontend: 53, backend: 53, protocol: UDP}], host: "::1") { id } } }');
  parse(buildQuery(udp));
});

test("secret forms, git URL detection and host paths", () => {
  assert.equal(secretUri("MY_TOKEN"), "env://MY_TOKEN");
  assert.equal(secretUri("env:MY_TOKEN"), "env://MY_TOKEN");
  assert.equal(secretUri("file:./token.txt"), "file://./token.txt");
  assert.equal(secretUri("cmd:echo hi"), "cmd://echo hi");
  assert.equal(secretUri("env://ALREADY"), "env://ALREADY");
  assert.equal(parseGitUrl("./local/dir"), undefined);
  assert.equal(parseGitUrl("/abs/dir"), undefined);
  assert.equal(parseGitUrl("dir:with:colons"), undefined);
  assert.deepEqual(parseGitUrl("ssh://git@host/org/repo#feature"), { remote: "ssh://git@host/org/repo", ref: "feature", subdir: "" });
  assert.equal(hostPath(".", "/a/b"), "/a/b");
  assert.equal(hostPath("~", "/a", "/root"), "/root");
});
