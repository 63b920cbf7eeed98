/** What the Python runtime reads of pyproject.toml and pip's settings, and the names it derives. */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { pipIndexSettings } from "./dependencies.js";
import { entryPointsTxt, parsePyproject } from "./pyproject.js";
import { pythonNames, starterMainPy, starterPyproject } from "./sdk-files.js";

describe("Python runtime: pyproject.toml, pip settings, names", () => {
  test("names as Dagger derives them from the module's name", () => {
    assert.deepEqual(pythonNames("my-module"), { module: "my-module", project: "my-module", package: "my_module", mainObject: "MyModule" });
    assert.deepEqual(pythonNames("hello_world"), { module: "hello_world", project: "hello-world", package: "hello_world", mainObject: "HelloWorld" });
    assert.equal(pythonNames("myModule").package, "my_module");
    assert.match(starterMainPy(pythonNames("go-build")), /^class GoBuild:$/m);
    assert.deepEqual(parsePyproject(starterPyproject(pythonNames("go-build"))), { name: "go-build", version: "0.1.0", dependencies: [], entryPoints: {} });
  });

  test("dependencies without dagger-io (however spelled), entry points", () => {
    const p = parsePyproject(`[project]
name = "m"
dependencies = ["dagger-io", "Dagger_IO>=0.21", "requests[socks]>=2", "six==1.16.0"]

[project.entry-points."dagger.mod"]
main_object = "m.main:M"
`);
    assert.deepEqual(p.dependencies, ["requests[socks]>=2", "six==1.16.0"]);
    assert.equal(entryPointsTxt(p.entryPoints), "[dagger.mod]\nmain_object = m.main:M\n");
    assert.throws(() => parsePyproject("[project\nname="), /^InvalidArgumentError: pyproject\.toml: /);
    assert.throws(() => parsePyproject("[project]\ndependencies = [1]\n"), /project\.dependencies: not a string: 1/);
  });

  test("the index as pip reads it: environment over pip.conf", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-pipconf-"));
    try {
      const conf = path.join(dir, "pip.conf");
      await fs.writeFile(
        conf,
        "[global]\nindex-url = https://mirror.example/simple\nextra-index-url =\n  https://a.example/simple\n  https://b.example/simple\ncert = /etc/ca.pem\n[freeze]\nindex-url = ignored\n",
      );
      const fromFile = await pipIndexSettings({ PIP_CONFIG_FILE: conf, HOME: dir });
      assert.deepEqual(fromFile, {
        indexUrl: "https://mirror.example/simple",
        extraIndexUrls: ["https://a.example/simple", "https://b.example/simple"],
        cert: "/etc/ca.pem",
      });
      const fromEnv = await pipIndexSettings({
        PIP_CONFIG_FILE: conf,
        HOME: dir,
        PIP_INDEX_URL: "https://env.example/simple",
        PIP_EXTRA_INDEX_URL: "https://x.example https://y.example",
      });
      assert.deepEqual(fromEnv, { indexUrl: "https://env.example/simple", extraIndexUrls: ["https://x.example", "https://y.example"], cert: "/etc/ca.pem" });
      assert.deepEqual(await pipIndexSettings({ PIP_CONFIG_FILE: path.join(dir, "none"), HOME: dir }), { extraIndexUrls: [] });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
