/**
 * The Python client generator against the official wheel's gen.py (the
 * dagger-io 0.21.11 virtual environment scripts/install.sh makes for the SDK
 * tests): a schema with a stand-in dependency (Query.toy → Toy, enum ToyKind)
 * gives the wheel's file with the new classes and Query method merged in,
 * which the wheel's own package then imports and exposes as dagger.Toy and
 * dag.toy.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { coreIntrospection, introspectionWith } from "../typescript/testing.js";
import { generatePythonClient } from "./generate.js";
import { pyName } from "./types.js";

const VENV = path.join(process.env["TANTO_CACHE_DIR"] ?? path.join(os.homedir(), ".cache", "tanto"), "sdk", "python-venv");
const PACKAGE = path.join(VENV, "lib", "python3.11", "site-packages", "dagger");

describe("Python client generator", { skip: existsSync(PACKAGE) ? false : `no dagger-io wheel at ${PACKAGE} (scripts/install.sh)` }, () => {
  test("names: snake_case, acronyms as words, keywords with a trailing _", () => {
    assert.equal(pyName("withMountedDirectory"), "with_mounted_directory");
    assert.equal(pyName("loadHTTPStateFromID"), "load_http_state_from_id");
    assert.equal(pyName("from"), "from_");
    assert.equal(pyName("id"), "id");
  });

  test("a dependency's object, enum and Query field merged into the wheel's gen.py, which the SDK imports", async () => {
    const wheel = await fs.readFile(path.join(PACKAGE, "client", "gen.py"), "utf8");
    const core = generatePythonClient(await coreIntrospection(), wheel);
    const gen = generatePythonClient(await introspectionWith(["toy"]), wheel);
    assert.ok(gen.startsWith(wheel.slice(0, 1000)), "the wheel's header is kept");
    assert.doesNotMatch(core, /^class Toy\b/m);
    assert.match(gen, /^class ToyID\(Scalar\):$/m);
    assert.match(gen, /^class ToyKind\(Enum\):\n {4}PLUSH = "plush"$/m);
    assert.match(gen, /^ {4}WOOD = "WOOD"$/m);
    assert.match(gen, /^class Toy\(Type\):\n {4}"""A toy, for tests\."""$/m);
    assert.match(gen, /^ {4}def rename\(\n {8}self,\n {8}name: str,\n {8}\*,\n {8}old: str \| None = None,\n {4}\) -> "Toy":$/m);
    assert.match(
      gen,
      /^ {4}def toy\(\n {8}self,\n {8}name: str,\n {8}\*,\n {8}kind: ToyKind \| None = None,\n {8}box: "Directory \| None" = None,\n {4}\) -> "Toy":$/m,
    );
    assert.match(gen, /^ {4}"Toy",$/m);
    // The new Query method is inside class Query (before the next top-level class), the classes before it.
    const query = gen.search(/^class Query\(Root\):$/m);
    const method = gen.indexOf("    def toy(");
    assert.ok(gen.indexOf("class Toy(Type):") < query && query < method, "class order");
    assert.ok(!/^(?:@typecheck|class )/m.test(gen.slice(query + 20, method)), "toy() is a method of Query");

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-pygen-"));
    try {
      await fs.cp(PACKAGE, path.join(dir, "dagger"), { recursive: true, filter: (src) => !src.includes("__pycache__") });
      await fs.writeFile(path.join(dir, "dagger", "client", "gen.py"), gen);
      const script = [
        "import inspect, dagger",
        "from dagger import dag",
        "print(dagger.ToyKind.PLUSH.name, dagger.ToyKind.PLUSH.value)",
        "print(inspect.signature(dag.toy))",
        "t = dag.toy('a', kind=dagger.ToyKind.WOOD).rename('b')",
        "print(type(t).__name__, isinstance(dag.container(), dagger.Container))",
      ].join("\n");
      const { stdout } = await promisify(execFile)(path.join(VENV, "bin", "python"), ["-c", script], { env: { ...process.env, PYTHONPATH: dir } });
      assert.deepEqual(stdout.trim().split("\n"), [
        "PLUSH plush",
        // beartype's @typecheck has resolved the forward references: they name real classes.
        "(name: str, *, kind: dagger.ToyKind | None = None, box: dagger.client.gen.Directory | None = None) -> dagger.Toy",
        "Toy True",
      ]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
