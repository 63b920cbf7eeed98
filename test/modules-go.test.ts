/**
 * Modules written for the official Go SDK (dagger.io/dagger v0.21.9), run by
 * the engine with the Go runtime (src/modules/runtimes/go) and driven through
 * the CLI as a user would: functions, calls with a constructor argument,
 * Container/Directory/Secret/list/enum arguments, chaining into an object of
 * the module, errors (returned, and a compile error), and init/develop.
 * Skipped where the Go runtime base image is not built.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { STARTER_FUNCTIONS, testRegistry } from "./support/fixtures.js";

const BASE = path.join(REPO, "dist", "share", "go-runtime.tar");
const TS_BASE = path.join(REPO, "dist", "share", "typescript-runtime.tar");
const PY_BASE = path.join(REPO, "dist", "share", "python-runtime.tar");
const FIXTURE = path.join(REPO, "test", "modules", "go-hello");
const TIMEOUT = 300_000;

/** A TypeScript module the Go module calls. */
const TS_GREETER = `import { func, object } from "@dagger.io/dagger"

/** Greets, in TypeScript */
@object()
export class Tsgreeter {
  /** A greeting for someone */
  @func()
  greet(name: string, punctuation = "!"): string {
    return \`hello from typescript, \${name}\${punctuation}\`
  }
}
`;

/** A Python module the Go module calls. */
const PY_GREETER = `from dagger import function, object_type


@object_type
class Pygreeter:
    """Greets, in Python"""

    @function
    def greet(self, name: str, punctuation: str = "!") -> str:
        """A greeting for someone"""
        return f"hello from python, {name}{punctuation}"
`;

describe("modules: the official Go SDK", { skip: existsSync(BASE) ? false : "the Go runtime image is not built (node engine-image/go-runtime.mjs)" }, () => {
  let engine: TestEngine;
  let dir: string;
  let mod: string;
  const tanto = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
    run([CLI, ...args], { env: { ...engine.env, ...opts.env }, cwd: opts.cwd ?? mod, timeoutMs: TIMEOUT });
  const ok = async (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const r = await tanto(args, opts);
    assert.equal(r.code, 0, `tanto ${args.join(" ")}:\n${r.stderr}`);
    return r.stdout;
  };

  /**
   * Under `root` (holding the dependency `dep`, a module of another SDK, already written): a Go module
   * `app/` named `name` whose `Hi` asks `dep` for a greeting; it installs `dep` and returns `call hi --name go`.
   */
  const goAppCalling = async (root: string, name: string, dep: string, depSdk: string): Promise<string> => {
    await run(["git", "init", "-q", root]);
    const app = path.join(root, "app");
    await fs.writeFile(path.join(app, "dagger.json"), JSON.stringify({ name, engineVersion: "v0.21.8", sdk: { source: "go" } }));
    const Name = name[0]!.toUpperCase() + name.slice(1);
    const Dep = dep[0]!.toUpperCase() + dep.slice(1);
    await fs.writeFile(
      path.join(app, "main.go"),
      `package main

import (
\t"context"

\t"dagger/${name}/internal/dagger"
)

type ${Name} struct{}

// Asks the ${depSdk} module for a greeting
func (p *${Name}) Hi(ctx context.Context, name string) (string, error) {
\treturn dag.${Dep}().Greet(ctx, name, dagger.${Dep}GreetOpts{Punctuation: "?"})
}
`,
    );
    await ok(["install", `../${dep}`], { cwd: app });
    return ok(["call", "hi", "--name", "go"], { cwd: app });
  };

  before(async () => {
    engine = await startEngine({ registry: await testRegistry() });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-gomod-"));
    mod = path.join(dir, "hello");
    await fs.cp(FIXTURE, mod, { recursive: true });
    await fs.mkdir(path.join(mod, "data", "sub"), { recursive: true });
    await fs.writeFile(path.join(mod, "data", "a.txt"), "a\n");
  });
  after(async () => {
    await engine?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test("first call of a fresh module, then the same call cached", { timeout: TIMEOUT }, async () => {
    let started = Date.now();
    const first = await tanto(["call", "greet"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "hello, world!");
    console.log(`first call: ${Date.now() - started} ms; steps taking a second or more:`);
    const lines = first.stderr.split("\n");
    for (const line of lines) {
      const slow = / (DONE|CACHED) ([1-9]\d*\.\d+s)/.exec(line);
      const id = /^#\d+ /.exec(line)?.[0];
      if (slow && id) console.log(`  ${lines.find((l) => l.startsWith(id))?.slice(0, 100)}: ${slow[2]}`);
    }
    started = Date.now();
    assert.equal(await ok(["call", "greet", "--name", "go"]), "hello, go!");
    console.log(`second call: ${Date.now() - started} ms`);
    started = Date.now();
    assert.equal(await ok(["call", "greet", "--name", "go"]), "hello, go!");
    console.log(`the same call again: ${Date.now() - started} ms`);
  });

  test("functions: names in kebab case with their descriptions", { timeout: TIMEOUT }, async () => {
    const out = await ok(["functions"]);
    const rows = out
      .trim()
      .split("\n")
      .map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows, [
      ["Name", "Description"],
      ["boom", "Fails"],
      ["data", "The entries of a directory, by default the module's data"],
      ["echo", "Echoes a message in a container"],
      ["for", "A greeter for one name"],
      ["greet", "Greets someone"],
      ["greeting", "The greeting word"],
      ["join", "Joins words"],
      ["ls", "The entries of a directory"],
      ["nonce", "A new random number on every call"],
      ["run", "Runs a command in the given container"],
      ["say", "Says something at a level"],
      ["secret-length", "The length of a secret"],
    ]);
  });

  test("a constructor argument", { timeout: TIMEOUT }, async () => {
    assert.equal(await ok(["call", "--greeting", "hi", "greet", "--name", "tanto"]), "hi, tanto!");
  });

  test("Container, Directory and Secret arguments; a Container result", { timeout: TIMEOUT }, async () => {
    assert.equal(await ok(["call", "echo", "--msg", "from go", "stdout"]), "from go\n");
    assert.match(await ok(["call", "echo", "--msg", "x"]), /^Container@sha256:[0-9a-f]{64}\n?$/);
    assert.equal(await ok(["call", "run", "--ctr", "busybox", "--args", "echo,ran"]), "ran\n");
    assert.equal(await ok(["call", "ls", "--dir", "./data"]), "a.txt\nsub/\n");
    // +defaultPath: the module's own data directory when the caller gives none.
    assert.equal(await ok(["call", "data"]), "a.txt\nsub/\n");
    assert.equal(await ok(["call", "secret-length", "--token", "env:GO_TOKEN"], { env: { GO_TOKEN: "12345" } }), "5");
  });

  test("list and enum arguments", { timeout: TIMEOUT }, async () => {
    assert.equal(await ok(["call", "join", "--words", "a,b,c", "--sep", "-"]), "a-b-c");
    // +optional without a default: Go's zero value.
    assert.equal(await ok(["call", "join", "--words", "a,b"]), "ab");
    assert.equal(await ok(["call", "say", "--level", "HIGH", "--msg", "hey"]), "HEY!");
    assert.equal(await ok(["call", "say", "--level", "LOW", "--msg", "HEY"]), "hey");
    const bad = await tanto(["call", "say", "--level", "MEDIUM", "--msg", "x"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MEDIUM/);
  });

  test("chaining into an object of the module, its fields and functions", { timeout: TIMEOUT }, async () => {
    assert.equal(await ok(["call", "for", "--name", "ann", "name"]), "ann");
    assert.equal(await ok(["call", "--greeting", "hey", "for", "--name", "bob", "message"]), "hey, bob\n");
  });

  test('+cache="never": every call runs', { timeout: TIMEOUT }, async () => {
    const [a, b] = [await ok(["call", "nonce"]), await ok(["call", "nonce"])];
    assert.match(a, /^\d+$/);
    assert.notEqual(a, b);
  });

  test("a returned error", { timeout: TIMEOUT }, async () => {
    const r = await tanto(["call", "boom"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /it broke/);
    console.log(`returned error: ${r.stderr.trim()}`);
  });

  test("a compile error shows the compiler's message with file and line", { timeout: TIMEOUT }, async () => {
    const broken = path.join(dir, "broken");
    await fs.cp(FIXTURE, broken, { recursive: true });
    const main = await fs.readFile(path.join(broken, "main.go"), "utf8");
    await fs.writeFile(path.join(broken, "main.go"), main.replace("return strings.Join(words, sep)", "return strings.Join(words, 42)"));
    const r = await tanto(["call", "greet"], { cwd: broken });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /main\.go:\d+:\d+: cannot use 42/);
    console.log(`compile error: ${r.stderr.trim()}`);
  });

  test("init writes a Go module that functions lists; develop regenerates", { timeout: TIMEOUT }, async () => {
    const fresh = path.join(dir, "fresh");
    await fs.mkdir(fresh);
    const out = await ok(["init", "--sdk=go", "--name=my-mod"], { cwd: fresh });
    assert.match(out, /Initialized module my-mod in /);
    const goMod = await fs.readFile(path.join(fresh, "go.mod"), "utf8");
    assert.match(goMod, /^module dagger\/my-mod$/m);
    assert.match(goMod, /dagger\.io\/dagger v0\.21\.9/);
    const main = await fs.readFile(path.join(fresh, "main.go"), "utf8");
    assert.match(main, /type MyMod struct\{\}/);
    assert.match(main, /"dagger\/my-mod\/internal\/dagger"/);
    assert.ok(existsSync(path.join(fresh, "dagger.gen.go")));
    assert.match(await fs.readFile(path.join(fresh, "internal", "dagger", "dagger.gen.go"), "utf8"), /Container = lib\.Container/);
    assert.match(await fs.readFile(path.join(fresh, ".gitignore"), "utf8"), /^\/dagger\.gen\.go$/m);
    const started = Date.now();
    const fns = await ok(["functions"], { cwd: fresh });
    console.log(`functions of a fresh module on a warm engine: ${Date.now() - started} ms`);
    assert.equal(fns, STARTER_FUNCTIONS, "the starter's functions as Dagger's Go template lists them");

    // develop picks up a new function in the generated dispatch code.
    await fs.appendFile(path.join(fresh, "main.go"), `\n// Adds\nfunc (m *MyMod) Add(a int, b int) int {\n\treturn a + b\n}\n`);
    await fs.rm(path.join(fresh, "dagger.gen.go"));
    await ok(["develop"], { cwd: fresh });
    assert.match(await fs.readFile(path.join(fresh, "dagger.gen.go"), "utf8"), /case "Add":/);
    assert.equal(await ok(["call", "add", "--a", "2", "--b", "3"], { cwd: fresh }), "5");
  });

  test("install a dependency; the module calls it through dag", { timeout: TIMEOUT }, async () => {
    const root = path.join(dir, "deps");
    await fs.cp(path.join(REPO, "test", "modules", "go-deps"), root, { recursive: true });
    // The git root is the context that holds both modules.
    await run(["git", "init", "-q", root]);
    const app = path.join(root, "app");
    await ok(["install", "../shouter"], { cwd: app });
    const config = JSON.parse(await fs.readFile(path.join(app, "dagger.json"), "utf8")) as { dependencies?: unknown };
    assert.deepEqual(config.dependencies, [{ name: "shouter", source: "../shouter" }]);
    assert.match(await fs.readFile(path.join(app, "internal", "dagger", "dependencies.gen.go"), "utf8"), /func \(c \*Client\) Shouter\(\) \*Shouter/);
    assert.equal(await ok(["call", "loud", "--msg", "hey"], { cwd: app }), "HEY!");
    assert.equal(await ok(["call", "box-out", "--msg", "boxed"], { cwd: app }), "BOXED\n");
    // A list of objects from the dependency, each loaded by its ID.
    assert.equal(await ok(["call", "boxes-out", "--msgs", "a,b"], { cwd: app }), "A B");
  });

  test("a Go module calls a TypeScript module", { timeout: TIMEOUT, skip: existsSync(TS_BASE) ? false : "the TypeScript runtime is not built" }, async () => {
    const root = path.join(dir, "polyglot");
    await fs.mkdir(path.join(root, "app"), { recursive: true });
    await fs.mkdir(path.join(root, "tsgreeter", "src"), { recursive: true });
    await fs.writeFile(
      path.join(root, "tsgreeter", "dagger.json"),
      JSON.stringify({ name: "tsgreeter", engineVersion: "v0.21.8", sdk: { source: "typescript" } }),
    );
    await fs.writeFile(path.join(root, "tsgreeter", "src", "index.ts"), TS_GREETER);
    assert.equal(await goAppCalling(root, "polyglot", "tsgreeter", "TypeScript"), "hello from typescript, go?");
  });

  test("a Go module calls a Python module", { timeout: TIMEOUT, skip: existsSync(PY_BASE) ? false : "the Python runtime is not built" }, async () => {
    const root = path.join(dir, "polyglot-py");
    const pkg = path.join(root, "pygreeter", "src", "pygreeter");
    await fs.mkdir(path.join(root, "app"), { recursive: true });
    await fs.mkdir(pkg, { recursive: true });
    await fs.writeFile(path.join(root, "pygreeter", "dagger.json"), JSON.stringify({ name: "pygreeter", engineVersion: "v0.21.9", sdk: { source: "python" } }));
    await fs.writeFile(
      path.join(root, "pygreeter", "pyproject.toml"),
      (await fs.readFile(path.join(REPO, "test", "modules", "python-acc", "pyproject.toml"), "utf8")).replace('name = "pyacc"', 'name = "pygreeter"'),
    );
    await fs.writeFile(path.join(pkg, "__init__.py"), "from .main import Pygreeter as Pygreeter\n");
    await fs.writeFile(path.join(pkg, "main.py"), PY_GREETER);
    assert.equal(await goAppCalling(root, "polyglotpy", "pygreeter", "Python"), "hello from python, go?");
  });
});
