import assert from "node:assert/strict";
import { test } from "node:test";
import { formatModuleConfig, parseModuleConfig } from "./config.js";

test("dagger.json round-trips in Dagger's key order, empty values omitted", () => {
  const cfg = parseModuleConfig(
    JSON.stringify({
      source: ".dagger",
      dependencies: [{ source: "../dep", name: "dep" }],
      sdk: { source: "typescript" },
      engineVersion: "v0.21.8",
      name: "hello",
    }),
  );
  assert.equal(
    formatModuleConfig(cfg),
    '{\n  "name": "hello",\n  "engineVersion": "v0.21.8",\n  "sdk": {\n    "source": "typescript"\n  },\n  "dependencies": [\n    {\n      "name": "dep",\n      "source": "../dep"\n    }\n  ],\n  "source": ".dagger"\n}\n',
  );
});

test("legacy forms: sdk as a string, string dependencies, exclude as ! includes; source '.' omitted", () => {
  const cfg = parseModuleConfig('{"name":"a","sdk":"go","dependencies":["../b"],"include":["x"],"exclude":["y"],"source":"."}');
  assert.deepEqual(cfg.sdk, { source: "go" });
  assert.deepEqual(cfg.dependencies, [{ name: "", source: "../b" }]);
  assert.deepEqual(cfg.include, ["x", "!y"]);
  assert.equal(cfg.source, undefined);
});

test("bad dagger.json is an error naming the problem", () => {
  assert.throws(() => parseModuleConfig("{"), /dagger.json is not valid JSON/);
  assert.throws(() => parseModuleConfig('{"name": 3}'), /"name" must be a string/);
  assert.throws(() => parseModuleConfig('{"name":"a","sdk":"go","source":"../x"}'), /may not contain "\.\."/);
});
