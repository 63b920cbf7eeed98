/** The package.json and tsconfig.json edits the TypeScript SDK makes, and the starter's class name. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mainObjectName, starterIndexTs, updatePackageJson, updateTsconfig } from "./sdk-files.js";

describe("TypeScript SDK files", () => {
  test("package.json: ESM, TypeScript 5.9.3 unless set, no @dagger.io/dagger; comments allowed", () => {
    assert.deepEqual(JSON.parse(updatePackageJson(undefined).text), { type: "module", dependencies: { typescript: "5.9.3" } });
    const edited = updatePackageJson(`{
      // the module's own
      "name": "m", "dependencies": { "typescript": "5.9.0", "@dagger.io/dagger": "./sdk", "left-pad": "^1.3.0" }, /* trailing */
    }`);
    assert.deepEqual(JSON.parse(edited.text), { name: "m", type: "module", dependencies: { typescript: "5.9.0", "left-pad": "^1.3.0" } });
    assert.deepEqual(edited.dependencies, { typescript: "5.9.0", "left-pad": "^1.3.0" });
    assert.throws(() => updatePackageJson("[1, 2]"), /package\.json: not a JSON object/);
  });

  test("tsconfig.json: the SDK's paths and decorators over the module's own options", () => {
    const fresh = JSON.parse(updateTsconfig(undefined));
    assert.deepEqual(fresh.compilerOptions, {
      target: "ES2022",
      moduleResolution: "Node",
      strict: true,
      skipLibCheck: true,
      experimentalDecorators: true,
      paths: { "@dagger.io/dagger": ["./sdk/index.ts"], "@dagger.io/dagger/telemetry": ["./sdk/telemetry.ts"] },
    });
    const edited = JSON.parse(updateTsconfig('{ "compilerOptions": { "target": "ESNext", // newest\n "paths": { "custom": ["./x.ts"] } } }'));
    assert.equal(edited.compilerOptions.target, "ESNext");
    assert.deepEqual(edited.compilerOptions.paths.custom, ["./x.ts"]);
    assert.deepEqual(edited.compilerOptions.paths["@dagger.io/dagger"], ["./sdk/index.ts"]);
    assert.equal(edited.compilerOptions.experimentalDecorators, true);
  });

  test("the starter's class is the module name in PascalCase", () => {
    assert.equal(mainObjectName("my-module"), "MyModule");
    assert.equal(mainObjectName("hello_world"), "HelloWorld");
    assert.equal(mainObjectName("myModule"), "MyModule");
    assert.match(starterIndexTs("go-build"), /^@object\(\)\nexport class GoBuild \{$/m);
    assert.match(starterIndexTs("go-build"), /^import \{ dag, Container, Directory, object, func \} from "@dagger\.io\/dagger"$/m);
  });
});
