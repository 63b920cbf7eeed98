/**
 * What is left of issue 11's module features, through `tanto call` and the
 * official TypeScript SDK:
 *
 * - `currentModule.workdir`/`workdirFile`: files a function wrote in its
 *   runtime's working directory (`/scratch`) come back as a Directory or a
 *   File, filtered as asked; a path leaving the workdir is refused.
 * - Interfaces, as in Dagger's documentation (extending/interfaces): module
 *   `my-module` declares `interface Fooer` and takes one in `foo(fooer)`;
 *   module `example` has an object with a matching `foo(bar)`; module `usage`
 *   depends on both and calls `dag.myModule().foo(dag.example().asMyModuleFooer())`,
 *   so my-module's code calls example's function through the interface.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const RUNTIME = path.join(REPO, "dist", "src", "modules", "runtimes", "typescript", "index.js");
const SLOW = 15 * 60_000;

const SCRATCH_SOURCE = `import * as fs from "node:fs/promises"
import { dag, Directory, File, object, func } from "@dagger.io/dagger"

@object()
export class Scratch {
  /** Writes a note in the working directory and returns it */
  @func()
  async note(text: string): Promise<File> {
    await fs.mkdir("out/sub", { recursive: true })
    await fs.writeFile("out/note.txt", text)
    return dag.currentModule().workdirFile("out/note.txt")
  }

  @func()
  async tree(): Promise<Directory> {
    await fs.mkdir("out/sub", { recursive: true })
    await fs.writeFile("out/keep.txt", "kept")
    await fs.writeFile("out/drop.log", "dropped")
    await fs.writeFile("out/sub/deep.txt", "deep")
    return dag.currentModule().workdir("out", { exclude: ["*.log"] })
  }

  @func()
  async escape(): Promise<string> {
    return dag.currentModule().workdirFile("../etc/passwd").contents()
  }

  @func()
  async cwd(): Promise<string> {
    return process.cwd()
  }
}
`;

// Dagger's documentation, extending/interfaces: declaration, implementation, usage.
const DECLARATION_SOURCE = `import { func, object } from "@dagger.io/dagger"

export interface Fooer {
  // You can also declare it as a method signature (e.g., \`foo(): Promise<string>\`)
  foo: (bar: number) => Promise<string>
}

@object()
export class MyModule {
  @func()
  async foo(fooer: Fooer): Promise<string> {
    return await fooer.foo(42)
  }
}
`;

const IMPLEMENTATION_SOURCE = `import { func, object } from "@dagger.io/dagger"

@object()
export class Example {
  @func()
  async foo(bar: number): Promise<string> {
    return \`number is: \${bar}\`
  }
}
`;

const USAGE_SOURCE = `import { dag, func, object } from "@dagger.io/dagger"

@object()
export class Usage {
  @func()
  async test(): Promise<string> {
    // Because \`Example\` implements \`Fooer\`, the conversion function
    // \`AsMyModuleFooer\` has been generated.
    return dag.myModule().foo(dag.example().asMyModuleFooer())
  }
}
`;

describe("modules: workdir and interfaces", { skip: existsSync(RUNTIME) ? false : "the TypeScript runtime is not built in" }, () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  const writeModule = async (name: string, source: string, deps: string[] = []): Promise<string> => {
    const at = path.join(dir, name);
    await fs.mkdir(path.join(at, "src"), { recursive: true });
    const config = {
      name,
      engineVersion: "v0.21.8",
      sdk: { source: "typescript" },
      ...(deps.length ? { dependencies: deps.map((d) => ({ name: d, source: `../${d}` })) } : {}),
    };
    await fs.writeFile(path.join(at, "dagger.json"), JSON.stringify(config));
    await fs.writeFile(path.join(at, "src", "index.ts"), source);
    return at;
  };
  const call = (cwd: string, ...args: string[]) => run([CLI, "call", ...args], { env, cwd, timeoutMs: SLOW });

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env };
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-ifaces-"));
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("currentModule.workdir and workdirFile return what the function wrote in /scratch", { timeout: SLOW }, async () => {
    const mod = await writeModule("scratch", SCRATCH_SOURCE);
    const cwd = await call(mod, "cwd");
    assert.equal(cwd.code, 0, cwd.stderr);
    assert.equal(cwd.stdout, "/scratch");

    const note = await call(mod, "note", "--text", "written in the runtime", "contents");
    assert.equal(note.code, 0, note.stderr);
    assert.equal(note.stdout, "written in the runtime");
    const name = await call(mod, "note", "--text", "x", "name");
    assert.equal(name.code, 0, name.stderr);
    assert.equal(name.stdout, "note.txt");

    const entries = await call(mod, "tree", "entries");
    assert.equal(entries.code, 0, entries.stderr);
    assert.deepEqual(entries.stdout.trimEnd().split("\n").sort(), ["keep.txt", "sub/"]);
    const deep = await call(mod, "tree", "file", "--path", "sub/deep.txt", "contents");
    assert.equal(deep.code, 0, deep.stderr);
    assert.equal(deep.stdout, "deep");

    const escaped = await call(mod, "escape");
    assert.equal(escaped.code, 1, escaped.stdout);
    assert.match(escaped.stderr, /workdir path "\.\.\/etc\/passwd" escapes workdir/);
  });

  test("an object of one module passed to another's function taking an interface (Dagger's docs example)", { timeout: SLOW }, async () => {
    await writeModule("my-module", DECLARATION_SOURCE);
    await writeModule("example", IMPLEMENTATION_SOURCE);
    const usage = await writeModule("usage", USAGE_SOURCE, ["my-module", "example"]);

    const r = await call(usage, "test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "number is: 42");

    // From the CLI, a function taking an interface is not offered (no flag can name one), as in Dagger.
    const fns = await run([CLI, "functions"], { env, cwd: path.join(dir, "my-module"), timeoutMs: SLOW });
    assert.equal(fns.code, 0, fns.stderr);
    assert.equal(fns.stdout, "");
    assert.match(fns.stderr, /No functions found\./);
  });
});
