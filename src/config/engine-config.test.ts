import assert from "node:assert/strict";
import { test } from "node:test";
import { clientCacheConfig, parseConfig } from "./engine-config.js";

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
  const { warnings } = parseConfig(`colour = "blue"\n[worker.oci]\nsnapshotter = "native"\n`);
  assert.deepEqual(warnings, ['engine.toml: unknown key "colour" ignored', 'engine.toml: unknown key "worker.oci.snapshotter" ignored']);
});

test("invalid values are errors naming the key", () => {
  assert.throws(() => parseConfig(`[registry."x"]\nhttp = "yes"\n`), /"registry\."x"\.http" must be a boolean/);
  assert.throws(() => parseConfig(`[worker.oci]\nmax-parallelism = 0\n`), /"worker\.oci\.max-parallelism" must be at least 1/);
  assert.throws(() => parseConfig(`debug = `), /invalid TOML/);
});

test("GC policy sizes", () => {
  const { config } = parseConfig(`[worker.oci]\ngc = true\ngckeepstorage = "200MB"\nreservedSpace = 1000\nmaxUsedSpace = "1GiB"\nminFreeSpace = "5gb"\n`);
  assert.deepEqual(config.gc, { enabled: true, keepStorage: 200e6, reservedSpace: 1000, maxUsedSpace: 1024 ** 3, minFreeSpace: 5e9 });
  assert.throws(() => parseConfig(`[worker.oci]\ngckeepstorage = "lots"\n`), /"worker\.oci\.gckeepstorage" must be a size/);
});

test("network can be turned off", () => {
  assert.equal(parseConfig("").config.network.enabled, true);
  const { config, warnings } = parseConfig(`[network]\nenabled = false\npool-size = 0\n`);
  assert.deepEqual(config.network, { enabled: false, name: "tanto", cidr: "10.87.0.0/16", poolSize: 0 });
  assert.deepEqual(warnings, []);
  assert.throws(() => parseConfig(`[network]\nenabled = "no"\n`), /"network\.enabled" must be a boolean/);
});

test("the namespace pool follows max-parallelism unless pool-size is set", () => {
  assert.equal(parseConfig("").config.network.poolSize, 4);
  assert.equal(parseConfig(`[worker.oci]\nmax-parallelism = 100\n`).config.network.poolSize, 100);
  assert.equal(parseConfig(`[worker.oci]\nmax-parallelism = 1000\n`).config.network.poolSize, 256, "at most 256");
  assert.equal(parseConfig(`[network]\npool-size = 2\n[worker.oci]\nmax-parallelism = 100\n`).config.network.poolSize, 2);
});

test("bounds on services, downloads, layer pulls and exports", () => {
  const defaults = parseConfig("").config.limits;
  assert.ok(defaults.exports >= 1 && defaults.services >= 1 && defaults.downloads >= 1 && defaults.layerPulls >= 1);
  const { config, warnings } = parseConfig(`[worker.oci]\nmax-services = 2\nmax-downloads = 3\nmax-layer-pulls = 5\nmax-exports = 7\n`);
  assert.deepEqual(config.limits, { services: 2, downloads: 3, layerPulls: 5, exports: 7 });
  assert.deepEqual(warnings, []);
  assert.throws(() => parseConfig(`[worker.oci]\nmax-exports = 0\n`), /"worker\.oci\.max-exports" must be at least 1, got 0/);
  assert.throws(() => parseConfig(`[worker.oci]\nmax-services = "many"\n`), /"worker\.oci\.max-services" must be an integer/);
});

test("[cache]: registry import and export entries, as BuildKit spells them", () => {
  assert.deepEqual(parseConfig("").config.cache, { imports: [], exports: [] });
  const { config, warnings } = parseConfig(
    `[cache]\nimport = ["type=registry,ref=r:5000/cache/main"]\nexport = ["type=registry,ref=r:5000/cache/main,mode=max", "type=registry, ref=r2/c"]\n`,
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.cache, {
    imports: [{ ref: "r:5000/cache/main", mode: "min" }],
    exports: [
      { ref: "r:5000/cache/main", mode: "max" },
      { ref: "r2/c", mode: "min" },
    ],
  });
  assert.throws(() => parseConfig(`[cache]\nexport = ["type=local,dest=/tmp/c"]\n`), /type must be "registry".*not "local"/);
  assert.throws(() => parseConfig(`[cache]\nexport = ["type=registry"]\n`), /ref=HOST\/REPOSITORY is required/);
  assert.deepEqual(parseConfig(`[cache]\nexport = ["type=registry,ref=r/c,mode=min"]\n`).config.cache.exports, [{ ref: "r/c", mode: "min" }]);
  assert.throws(() => parseConfig(`[cache]\nexport = ["type=registry,ref=r/c,mode=all"]\n`), /mode must be "min" or "max", not "all"/);
  assert.throws(() => parseConfig(`[cache]\nimport = ["type=registry,ref=r/c,compression=zstd"]\n`), /unknown option "compression"/);
  assert.deepEqual(parseConfig(`[cache]\nttl = 1\n`).warnings, ['engine.toml: unknown key "cache.ttl" ignored']);
});

test("a client's cache config: Dagger's variables, entries separated by ;", () => {
  assert.deepEqual(clientCacheConfig({}), { imports: [], exports: [] });
  assert.deepEqual(clientCacheConfig({ both: "type=registry,ref=r/a,mode=max; type=registry,ref=r/b", imports: "type=registry,ref=r/c" }), {
    imports: [
      { ref: "r/a", mode: "max" },
      { ref: "r/b", mode: "min" },
      { ref: "r/c", mode: "min" },
    ],
    exports: [
      { ref: "r/a", mode: "max" },
      { ref: "r/b", mode: "min" },
    ],
  });
  assert.throws(
    () => clientCacheConfig({ exports: "type=s3,bucket=b" }),
    /"_EXPERIMENTAL_DAGGER_CACHE_EXPORT_CONFIG" entry "type=s3,bucket=b": type must be "registry"/,
  );
});
