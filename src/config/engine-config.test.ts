import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "./engine-config.js";

test("parses buildkitd-style keys", () => {
  const { config, warnings } = parseConfig(`
debug = true
[registry."docker.io"]
mirrors = ["127.0.0.1:5000"]
[registry."127.0.0.1:5000"]
http = true
[worker.oci]
max-parallelism = 8
`);
  assert.equal(config.debug, true);
  assert.deepEqual(config.registries["docker.io"], { mirrors: ["127.0.0.1:5000"] });
  assert.deepEqual(config.registries["127.0.0.1:5000"], { http: true });
  assert.equal(config.maxParallelism, 8);
  assert.deepEqual(warnings, []);
});

test("unknown keys are warnings naming the key", () => {
  const { warnings } = parseConfig(`colour = "blue"\n[worker.oci]\ngc = true\n`);
  assert.deepEqual(warnings, ['engine.toml: unknown key "colour" ignored', 'engine.toml: unknown key "worker.oci.gc" ignored']);
});

test("invalid values are errors naming the key", () => {
  assert.throws(() => parseConfig(`[registry."x"]\nhttp = "yes"\n`), /"registry\."x"\.http" must be a boolean/);
  assert.throws(() => parseConfig(`[worker.oci]\nmax-parallelism = 0\n`), /"worker\.oci\.max-parallelism" must be at least 1/);
  assert.throws(() => parseConfig(`debug = `), /invalid TOML/);
});
