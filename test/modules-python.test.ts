/**
 * Modules written for the official Python SDK (dagger-io 0.21.11), through
 * the CLI: `tanto init --sdk=python` and its starter called at once; the
 * fixture module test/modules/python-acc (constructor, Directory, Container,
 * Secret, string, list and enum arguments, a returned object chained, a
 * Container chained into core calls, an exception) calling a TypeScript
 * module through `dag`, and a TypeScript module calling it; a syntax error,
 * an import of a package pyproject.toml lacks and a dependency the index does
 * not have; a third-party dependency installed from the index this machine's
 * pip uses (test/modules/python-deps). Timings of the first call of a fresh
 * module and of a repeated (cached) call are printed and bounded.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { STARTER_FUNCTIONS, testRegistry } from "./support/fixtures.js";
import { pushBusybox } from "./support/images.js";

const SLOW = 15 * 60_000;
const FIXTURES = path.join(REPO, "test", "modules");

const TSDEP_SOURCE = `import { object, func } from "@dagger.io/dagger"

@object()
export class Tsdep {
  /** Says something about the name */
  @func()
  hello(name: string): string {
    return \`ts says \${name}\`
  }
}
`;

const TSCALLER_SOURCE = `import { dag, object, func } from "@dagger.io/dagger"

@object()
export class Tscaller {
  /** Joins through the Python module */
  @func()
  async viaPython(items: string[]): Promise<string> {
    return await dag.pyacc({ prefix: "ts" }).join(items)
  }

  /** Chains through an object the Python module returns */
  @func()
  async thingValue(x: number): Promise<number> {
    return await dag.pyacc().makeThing(x).getValue()
  }
}
`;

describe("modules: the official Python SDK, through the CLI", () => {
  let engine: TestEngine;
  let dir: string;
  const timings: string[] = [];
  const tanto = (args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) =>
    run([CLI, ...args], { env: { ...engine.env, ...extraEnv }, cwd, timeoutMs: SLOW });
  const timed = async (label: string, args: string[], cwd: string) => {
    const t0 = Date.now();
    const r = await tanto(args, cwd);
    const seconds = (Date.now() - t0) / 1000;
    timings.push(`${label}: ${seconds.toFixed(1)}s`);
    return { ...r, seconds };
  };
  const fixture = async (name: string) => {
    const to = path.join(dir, name);
    await fs.cp(path.join(FIXTURES, name), to, { recursive: true });
    return to;
  };

  before(async () => {
    const registry = await testRegistry();
    // The starter's image: busybox has the echo and grep -R it runs.
    await pushBusybox(registry, ["library/alpine:latest"]);
    engine = await startEngine({ registry });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-pymod-"));
  });
  after(async () => {
    process.stderr.write(`python module timings:\n  ${timings.join("\n  ")}\n`);
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("init --sdk=python: Dagger's starter, which functions and call run at once; develop writes sdk/", { timeout: SLOW }, async () => {
    const mod = path.join(dir, "starter");
    const init = await timed("init (runtime base imported)", ["init", "--sdk=python", "--name=my-mod", mod], dir);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^Initialized module my-mod in /m);
    const pyproject = await fs.readFile(path.join(mod, "pyproject.toml"), "utf8");
    assert.match(pyproject, /^name = "my-mod"$/m);
    assert.match(pyproject, /^requires-python = ">=3\.11"$/m);
    assert.match(pyproject, /^dagger-io = \{ path = "sdk", editable = true \}$/m);
    const main = await fs.readFile(path.join(mod, "src", "my_mod", "main.py"), "utf8");
    assert.match(main, /^class MyMod:$/m);
    assert.match(await fs.readFile(path.join(mod, "src", "my_mod", "__init__.py"), "utf8"), /^from \.main import MyMod as MyMod$/m);
    assert.match(await fs.readFile(path.join(mod, "sdk", "src", "dagger", "client", "gen.py"), "utf8"), /^class Client\(Query\):$/m);
    assert.match(await fs.readFile(path.join(mod, "sdk", "pyproject.toml"), "utf8"), /^name = "dagger-io"$/m);
    assert.ok((await fs.stat(path.join(mod, "sdk", "src", "dagger", "mod", "cli.py"))).isFile());
    assert.deepEqual((await fs.readFile(path.join(mod, ".gitignore"), "utf8")).trim().split("\n"), ["/sdk", "/.venv", "/**/__pycache__"]);
    assert.equal(JSON.parse(await fs.readFile(path.join(mod, "dagger.json"), "utf8")).sdk.source, "python");

    const fns = await timed("functions (fresh starter)", ["functions"], mod);
    assert.equal(fns.code, 0, fns.stderr);
    assert.equal(fns.stdout, STARTER_FUNCTIONS);
    const echo = await tanto(["call", "container-echo", "--string-arg", "hello from python", "stdout"], mod);
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, "hello from python\n");
    await fs.mkdir(path.join(mod, "notes"));
    await fs.writeFile(path.join(mod, "notes", "a.txt"), "one needle\ntwo\n");
    const grep = await tanto(["call", "grep-dir", "--directory-arg", "./notes", "--pattern", "needle"], mod);
    assert.equal(grep.code, 0, grep.stderr);
    assert.equal(grep.stdout, "./a.txt:one needle\n");

    // develop on an existing module: sdk/ rewritten, the module's own files kept.
    await fs.rm(path.join(mod, "sdk"), { recursive: true });
    await fs.writeFile(path.join(mod, "src", "my_mod", "main.py"), main.replace("Returns a container", "Gives a container"));
    const develop = await tanto(["develop"], mod);
    assert.equal(develop.code, 0, develop.stderr);
    assert.ok((await fs.stat(path.join(mod, "sdk", "src", "dagger", "client", "gen.py"))).isFile());
    assert.match(await fs.readFile(path.join(mod, "src", "my_mod", "main.py"), "utf8"), /Gives a container/);
  });

  test("a Python module: argument kinds, constructor, chaining, errors, a TypeScript dependency and caller", { timeout: SLOW }, async () => {
    const tsdep = path.join(dir, "python-tsdep");
    const init = await tanto(["init", "--sdk=typescript", "--name=tsdep", tsdep], dir);
    assert.equal(init.code, 0, init.stderr);
    await fs.writeFile(path.join(tsdep, "src", "index.ts"), TSDEP_SOURCE);
    const mod = await fixture("python-acc");
    const install = await timed("install ../python-tsdep (gen.py with the TypeScript dependency)", ["install", "../python-tsdep"], mod);
    assert.equal(install.code, 0, install.stderr);
    const config = JSON.parse(await fs.readFile(path.join(mod, "dagger.json"), "utf8")) as { dependencies?: Array<{ name: string; source: string }> };
    assert.deepEqual(config.dependencies, [{ name: "tsdep", source: "../python-tsdep" }]);
    const gen = await fs.readFile(path.join(mod, "sdk", "src", "dagger", "client", "gen.py"), "utf8");
    assert.match(gen, /^class Tsdep\(Type\):$/m);
    assert.match(gen, /^ {4}def tsdep\(self\) -> "Tsdep":$/m);
    assert.match(gen, /^ {4}async def hello\(self, name: str\) -> str:$/m);

    const fns = await timed("functions (first, fresh module)", ["functions"], mod);
    assert.equal(fns.code, 0, fns.stderr);
    assert.equal(
      fns.stdout,
      [
        "Name         Description",
        "base         -",
        "boom         -",
        "ctr-out      -",
        "files        Entries of a directory",
        "join         -",
        "make-thing   -",
        "pick         -",
        "reveal       -",
        "via-ts       Calls the TypeScript dependency",
        "",
      ].join("\n"),
    );
    const first = await timed("call join (first call)", ["call", "--prefix", "q", "join", "--items", "a,b,c"], mod);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "q:a+b+c");
    const again = await timed("call join (repeated, cached)", ["call", "--prefix", "q", "join", "--items", "a,b,c"], mod);
    assert.equal(again.stdout, "q:a+b+c", again.stderr);
    // Answered from the function cache: neither the constructor nor the function ran again
    // (its time is printed above; this machine's load makes a bound on it meaningless here).
    assert.match(again.stderr, /#(\d+) pyacc: Pyacc\.constructor\n(?:.*\n)*?#\1 CACHED$/m);
    assert.match(again.stderr, /#(\d+) pyacc: Pyacc\.join\n(?:.*\n)*?#\1 CACHED$/m);

    await fs.mkdir(path.join(mod, "data"));
    for (const f of ["a", "b"]) await fs.writeFile(path.join(mod, "data", f), f);
    const files = await tanto(["call", "files", "--dir", "./data"], mod);
    assert.equal(files.code, 0, files.stderr);
    assert.equal(files.stdout, "a\nb\n");
    const json = await tanto(["call", "files", "--dir", "./data", "--json"], mod);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, '[\n    "a",\n    "b"\n]\n');
    const ctr = await tanto(["call", "ctr-out", "--ctr", "busybox:latest"], mod);
    assert.equal(ctr.code, 0, ctr.stderr);
    assert.equal(ctr.stdout, "p from-ctr\n");
    const secret = await tanto(["call", "reveal", "--s", "env://PY_SECRET"], mod, { PY_SECRET: "hush" });
    assert.equal(secret.code, 0, secret.stderr);
    assert.equal(secret.stdout, "HUSH");
    const pick = await tanto(["call", "pick", "--color", "BLUE"], mod);
    assert.equal(pick.code, 0, pick.stderr);
    assert.equal(pick.stdout, "picked BLUE");
    const badEnum = await tanto(["call", "pick", "--color", "GREEN"], mod);
    assert.equal(badEnum.code, 1);
    assert.match(badEnum.stderr, /Error: invalid argument "GREEN" for "--color" flag: value should be one of RED,BLUE/);
    const chained = await tanto(["call", "make-thing", "--x", "2", "get-value"], mod);
    assert.equal(chained.code, 0, chained.stderr);
    assert.equal(chained.stdout, "20");
    const withExec = await tanto(["call", "base", "with-exec", "--args", "echo,chained", "stdout"], mod);
    assert.equal(withExec.code, 0, withExec.stderr);
    assert.equal(withExec.stdout, "chained\n");
    const viaTs = await tanto(["call", "via-ts", "--name", "bob"], mod);
    assert.equal(viaTs.code, 0, viaTs.stderr);
    assert.equal(viaTs.stdout, "ts says bob");

    const boom = await tanto(["call", "boom"], mod);
    assert.equal(boom.code, 1, boom.stderr);
    assert.equal(boom.stdout, "");
    assert.match(boom.stderr, /^Error: FunctionError: kaboom from python$/m);
    assert.match(boom.stderr, /ValueError: kaboom from python/);

    // A TypeScript module calling the Python one (and, through it, nothing else).
    const caller = path.join(dir, "python-tscaller");
    assert.equal((await tanto(["init", "--sdk=typescript", "--name=tscaller", caller], dir)).code, 0);
    const installPy = await tanto(["install", "../python-acc"], caller);
    assert.equal(installPy.code, 0, installPy.stderr);
    await fs.writeFile(path.join(caller, "src", "index.ts"), TSCALLER_SOURCE);
    const callerDevelop = await tanto(["develop"], caller);
    assert.equal(callerDevelop.code, 0, callerDevelop.stderr);
    const viaPython = await tanto(["call", "via-python", "--items", "x,y"], caller);
    assert.equal(viaPython.code, 0, viaPython.stderr);
    assert.equal(viaPython.stdout, "ts:x+y");
    const thing = await tanto(["call", "thing-value", "--x", "3"], caller);
    assert.equal(thing.code, 0, thing.stderr);
    assert.equal(thing.stdout, "30");
  });

  test("bad modules: a syntax error, an import pyproject.toml lacks, a dependency the index lacks", { timeout: SLOW }, async () => {
    const broken = await fixture("python-broken");
    const syntax = await tanto(["call", "oops"], broken);
    assert.equal(syntax.code, 1, syntax.stderr);
    assert.equal(syntax.stdout, "");
    assert.match(syntax.stderr, /^Error: .*ModuleLoadError: '\(' was never closed \(main\.py, line 8\)$/m);

    const main = path.join(broken, "src", "broken", "main.py");
    await fs.writeFile(
      main,
      "import yaml\nfrom dagger import function, object_type\n\n\n@object_type\nclass Broken:\n    @function\n    def oops(self) -> str:\n        return 'x'\n",
    );
    const missingImport = await tanto(["functions"], broken);
    assert.equal(missingImport.code, 1, missingImport.stderr);
    assert.match(missingImport.stderr, /^Error: .*No module named 'yaml'/m);

    const pyproject = path.join(broken, "pyproject.toml");
    const text = await fs.readFile(pyproject, "utf8");
    await fs.writeFile(pyproject, text.replace('dependencies = ["dagger-io"]', 'dependencies = ["dagger-io", "tanto-no-such-package-q7x"]'));
    const missingDep = await tanto(["functions"], broken);
    assert.equal(missingDep.code, 1, missingDep.stderr);
    assert.match(missingDep.stderr, /Error: [\s\S]*tanto-no-such-package-q7x/);
  });

  test("a third-party dependency from pyproject.toml, found through its entry point", { timeout: SLOW }, async () => {
    const mod = await fixture("python-deps");
    const r = await timed("call six-version (fresh module, uv install)", ["call", "six-version"], mod);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "six 1.16.0");
  });
});
