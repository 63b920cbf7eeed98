/**
 * The module commands end to end: `tanto init`, `develop`, `install`,
 * `functions` and `call` against a real engine, with a TypeScript module
 * written the way a user writes one (busybox as its image, the only image the
 * test registry serves). Dagger's output and exit codes are checked: tables,
 * `<Type>@<digest>`, `Saved output to …`, `Error: …`, an exec's exit code.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const SLOW = 15 * 60_000;

const MODULE_SOURCE = `import { dag, Container, Directory, object, func } from "@dagger.io/dagger"

/** Greets people from busybox. */
@object()
export class Hello {
  greeting: string

  constructor(greeting = "hello") {
    this.greeting = greeting
  }

  /** Echoes a greeting for the name.
   * Second line of the description. */
  @func()
  echo(name: string): Container {
    return dag.container().from("busybox:latest").withExec(["echo", \`\${this.greeting} \${name}\`])
  }

  /** Counts the entries of a directory */
  @func()
  async count(dir: Directory): Promise<number> {
    return (await dir.entries()).length
  }

  @func()
  fail(code: number): Container {
    return dag.container().from("busybox:latest").withExec(["sh", "-c", \`exit \${code}\`])
  }
}
`;

describe("module commands", () => {
  let engine: TestEngine;
  let dir: string;
  const tanto = (args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) =>
    run([CLI, ...args], { env: { ...engine.env, ...extraEnv }, cwd, timeoutMs: SLOW });

  before(async () => {
    engine = await startEngine({ registry: await testRegistry() });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-modcli-"));
    await fs.mkdir(path.join(dir, "empty"));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
    await engine.destroy();
  });

  test("call outside any module: Error: on stderr, nothing on stdout, exit 1", async () => {
    const r = await tanto(["call", "hello"], path.join(dir, "empty"));
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Error: /m);
  });

  test("functions outside any module: Error: and exit 1", async () => {
    const r = await tanto(["functions"], path.join(dir, "empty"));
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Error: /m);
  });

  test("-m and -M together are refused before anything runs", async () => {
    const r = await tanto(["call", "-m", ".", "-M", "container"], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: if any flags in the group \[mod no-mod\] are set none of the others can be/m);
  });

  test("init, functions, call, develop and install on a TypeScript module", { timeout: SLOW }, async () => {
    const mod = path.join(dir, "hello");
    const init = await tanto(["init", "--sdk=typescript", "--name=hello", mod], dir);
    assert.equal(init.code, 0, init.stderr);
    assert.equal(init.stdout, `Initialized module hello in ${mod}\n`);
    const config = JSON.parse(await fs.readFile(path.join(mod, "dagger.json"), "utf8")) as Record<string, unknown>;
    assert.equal(config["name"], "hello");
    assert.deepEqual(config["sdk"], { source: "typescript" });
    assert.match(await fs.readFile(path.join(mod, "LICENSE"), "utf8"), /Apache License/);
    assert.equal((await tanto(["init", mod], dir)).stderr.includes("Error: module already exists"), true);

    await fs.writeFile(path.join(mod, "src", "index.ts"), MODULE_SOURCE);
    const develop = await tanto(["develop"], mod);
    assert.equal(develop.code, 0, develop.stderr);

    const fns = await tanto(["functions"], mod);
    assert.equal(fns.code, 0, fns.stderr);
    assert.equal(fns.stdout, "Name    Description\ncount   Counts the entries of a directory\necho    Echoes a greeting for the name.\nfail    -\n");

    const echo = await tanto(["call", "--greeting", "hi", "echo", "--name", "bob", "stdout"], mod);
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, "hi bob\n");

    const obj = await tanto(["call", "echo", "--name=bob"], mod);
    assert.equal(obj.code, 0, obj.stderr);
    assert.match(obj.stdout, /^Container@sha256:[0-9a-f]{64}\n$/);

    await fs.mkdir(path.join(mod, "data"));
    for (const f of ["a", "b", "c"]) await fs.writeFile(path.join(mod, "data", f), f);
    const count = await tanto(["call", "count", "--dir", "./data", "--json"], mod);
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout, "3\n");

    const saved = await tanto(["call", "echo", "--name", "file", "stdout", "-o", "out/greeting.txt"], mod);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(await fs.readFile(path.join(mod, "out", "greeting.txt"), "utf8"), "hello file\n");
    assert.match(saved.stderr, new RegExp(`Saved output to "${path.join(mod, "out", "greeting.txt")}"\\.`));

    const failed = await tanto(["call", "fail", "--code", "3"], mod);
    assert.equal(failed.code, 3, failed.stderr);
    assert.match(failed.stderr, /^Error: /m);

    const unknown = await tanto(["call", "ech"], mod);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Error: unknown command "ech" for "tanto call" \(functions: count, echo, fail\)/);
    assert.match(unknown.stderr, /Run 'tanto call --help' for usage\./);
    const badFlag = await tanto(["call", "fail", "--code", "three"], mod);
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr, /Error: invalid argument "three" for "--code" flag/);

    const fromEnv = await tanto(["call", "echo", "--name", "env", "stdout"], dir, { DAGGER_MODULE: mod });
    assert.equal(fromEnv.stdout, "hello env\n", fromEnv.stderr);

    const dep = path.join(dir, "dep");
    assert.equal((await tanto(["init", "--sdk=typescript", dep], dir)).code, 0);
    const install = await tanto(["install", "../dep", "-n", "helper"], mod);
    assert.equal(install.code, 0, install.stderr);
    const withDep = JSON.parse(await fs.readFile(path.join(mod, "dagger.json"), "utf8")) as { dependencies?: Array<{ name: string; source: string }> };
    assert.deepEqual(withDep.dependencies, [{ name: "helper", source: "../dep" }]);
  });

  test("call -M: the core API as commands", { timeout: SLOW }, async () => {
    const r = await tanto(["call", "-M", "container", "from", "--address", "busybox:latest", "with-exec", "--args", "echo,core", "stdout"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "core\n");
    const obj = await tanto(["call", "-M", "container", "from", "--address", "busybox:latest"], dir);
    assert.equal(obj.code, 0, obj.stderr);
    assert.match(obj.stdout, /^Container@sha256:[0-9a-f]{64}\n$/);
    const failed = await tanto(["call", "-M", "container", "from", "--address", "busybox:latest", "with-exec", "--args", "sh,-c,exit 4", "stdout"], dir);
    assert.equal(failed.code, 4, failed.stderr);
    assert.match(failed.stderr, /^Error: .*exit code: 4/m);
    const help = await tanto(["call", "-M", "container", "--help"], dir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^USAGE\n {2}tanto call container \[arguments\] <function>\n/m);
    assert.match(help.stdout, /\n {2}from +/);
    const badFlag = await tanto(["call", "-M", "container", "from", "--adress", "x"], dir);
    assert.equal(badFlag.code, 1);
    assert.match(
      badFlag.stderr,
      /Error: unknown flag: --adress \(flags of "tanto call container from": --address, --registry-service\)\nRun 'tanto call container from --help' for usage\./,
    );
  });
});
