import assert from "node:assert/strict";
import { test } from "node:test";
import { enumMemberName, kebab, lowerCamel, namespaceType, pascalCase, screamingSnake } from "./names.js";

test("case conversions follow Dagger's gqlformat", () => {
  assert.equal(lowerCamel("container_echo"), "containerEcho");
  assert.equal(lowerCamel("ContainerEcho"), "containerEcho");
  assert.equal(lowerCamel("my-module"), "myModule");
  assert.equal(pascalCase("my-module"), "MyModule");
  assert.equal(pascalCase("HTTPServer"), "HttpServer");
  assert.equal(screamingSnake("fooBar"), "FOO_BAR");
  assert.equal(enumMemberName("RED_2"), "RED_2");
  assert.equal(enumMemberName("lightBlue"), "LIGHT_BLUE");
  assert.equal(kebab("grepDir"), "grep-dir");
});

test("module types are namespaced by the module name", () => {
  assert.equal(namespaceType("Foo", "foo", "foo"), "Foo");
  assert.equal(namespaceType("Bar", "foo", "foo"), "FooBar");
  assert.equal(namespaceType("FooBar", "foo", "foo"), "FooBar");
  assert.equal(namespaceType("Foobar", "foo", "foo"), "FooFoobar");
  assert.equal(namespaceType("MyMod", "other", "my-mod"), "Other");
});
