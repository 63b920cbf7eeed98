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
 *   The same interface declared with the Python SDK (`@dagger.interface` on a
 *   typing.Protocol) takes a TypeScript object, and declared with the Go SDK
 *   (a Go interface embedding DaggerObject, bound by tanto-go-codegen) takes a
 *   Python object. A Go interface's methods may return the module's own
 *   objects (read back by their fields), lists of them, and lists of core
 *   objects or interfaces.
 * - A workdir Directory's ID after a prune removed its snapshot: an error
 *   naming the path, the module and what to do.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { RawSession } from "./support/raw-session.js";

const RUNTIME = path.join(REPO, "dist", "src", "modules", "runtimes", "typescript", "index.js");
const PY_BASE = path.join(REPO, "dist", "share", "python-runtime.tar");
const GO_BASE = path.join(REPO, "dist", "share", "go-runtime.tar");
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

  /** The ID of a workdir Directory, for loading after a prune */
  @func()
  async treeId(): Promise<string> {
    await fs.mkdir("kept", { recursive: true })
    await fs.writeFile("kept/only.txt", "only")
    return await dag.currentModule().workdir("kept").id()
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

/** The same interface declared with Dagger's Python SDK: a typing.Protocol under \`@dagger.interface\`. */
const PY_DECLARATION_SOURCE = `import typing

import dagger
from dagger import function, object_type


@dagger.interface
class Fooer(typing.Protocol):
    @dagger.function
    async def foo(self, bar: int) -> str: ...


@object_type
class MyModule:
    @function
    async def foo(self, fooer: Fooer) -> str:
        return await fooer.foo(42)
`;

/** The same interface declared with Dagger's Go SDK: a Go interface embedding DaggerObject. */
const GO_DECLARATION_SOURCE = `package main

import (
\t"context"
)

type MyModule struct{}

type Fooer interface {
\tDaggerObject
\tFoo(ctx context.Context, bar int) (string, error)
}

func (m *MyModule) Foo(ctx context.Context, fooer Fooer) (string, error) {
\treturn fooer.Foo(ctx, 42)
}
`;

/**
 * A Go interface whose methods return the module's own object (read back field by field), lists of
 * them and a list of core objects; the module's own object implements it.
 */
const GO_SHAPES_SOURCE = `package main

import (
\t"context"
\t"fmt"
\t"strings"

\t"dagger/shapes/internal/dagger"
)

type Shapes struct{}

// A measurement: only the interface returns it.
type Measure struct {
\tValue int
\tUnit  string \`json:"unit"\`
}

type Sized interface {
\tDaggerObject
\tArea(ctx context.Context) (*Measure, error)
\tSides(ctx context.Context) ([]*Measure, error)
\tDrawings(ctx context.Context) ([]*dagger.Directory, error)
}

type Square struct {
\tSide int
}

func (m *Shapes) Square(side int) *Square {
\treturn &Square{Side: side}
}

func (s *Square) Area(ctx context.Context) (*Measure, error) {
\treturn &Measure{Value: s.Side * s.Side, Unit: "cm2"}, nil
}

func (s *Square) Sides(ctx context.Context) ([]*Measure, error) {
\tvar out []*Measure
\tfor i := 0; i < 4; i++ {
\t\tout = append(out, &Measure{Value: s.Side, Unit: "cm"})
\t}
\treturn out, nil
}

func (s *Square) Drawings(ctx context.Context) ([]*dagger.Directory, error) {
\treturn []*dagger.Directory{dag.Directory().WithNewFile(fmt.Sprintf("square-%d.txt", s.Side), "#")}, nil
}

func (m *Shapes) Describe(ctx context.Context, shape Sized) (string, error) {
\tarea, err := shape.Area(ctx)
\tif err != nil {
\t\treturn "", err
\t}
\tsides, err := shape.Sides(ctx)
\tif err != nil {
\t\treturn "", err
\t}
\tdrawings, err := shape.Drawings(ctx)
\tif err != nil {
\t\treturn "", err
\t}
\tvar names []string
\tfor _, d := range drawings {
\t\tentries, err := d.Entries(ctx)
\t\tif err != nil {
\t\t\treturn "", err
\t\t}
\t\tnames = append(names, entries...)
\t}
\treturn fmt.Sprintf("area %d %s; %d sides of %d %s; drawn in %s", area.Value, area.Unit, len(sides), sides[0].Value, sides[0].Unit, strings.Join(names, ",")), nil
}
`;

const SHAPES_USAGE_SOURCE = `import { dag, func, object } from "@dagger.io/dagger"

@object()
export class Usage {
  @func()
  async test(): Promise<string> {
    return dag.shapes().describe(dag.shapes().square(3).asShapesSized())
  }
}
`;

/** An implementation in Python. */
const PY_IMPLEMENTATION_SOURCE = `from dagger import function, object_type


@object_type
class Example:
    @function
    async def foo(self, bar: int) -> str:
        return f"python number is: {bar}"
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

  const writeModule = async (
    name: string,
    source: string,
    deps: string[] = [],
    sdk: "typescript" | "python" | "go" = "typescript",
    under = dir,
  ): Promise<string> => {
    const at = path.join(under, name);
    await fs.mkdir(at, { recursive: true });
    const config = {
      name,
      engineVersion: "v0.21.8",
      sdk: { source: sdk },
      ...(deps.length ? { dependencies: deps.map((d) => ({ name: d, source: `../${d}` })) } : {}),
    };
    await fs.writeFile(path.join(at, "dagger.json"), JSON.stringify(config));
    if (sdk === "typescript") {
      await fs.mkdir(path.join(at, "src"), { recursive: true });
      await fs.writeFile(path.join(at, "src", "index.ts"), source);
    } else if (sdk === "python") {
      const pkg = name.replaceAll("-", "_");
      await fs.mkdir(path.join(at, "src", pkg), { recursive: true });
      await fs.writeFile(
        path.join(at, "pyproject.toml"),
        `[project]\nname = "${name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = ["dagger-io"]\n`,
      );
      const main = source.match(/^class (\w+):$/m)?.[1];
      await fs.writeFile(path.join(at, "src", pkg, "__init__.py"), `from .main import ${main} as ${main}\n`);
      await fs.writeFile(path.join(at, "src", pkg, "main.py"), source);
    } else {
      await fs.writeFile(path.join(at, "main.go"), source);
    }
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

  test("an interface declared in Python takes a TypeScript object", {
    timeout: SLOW,
    skip: existsSync(PY_BASE) ? false : "the Python runtime is not built",
  }, async () => {
    const root = await fs.mkdtemp(path.join(dir, "py-"));
    await writeModule("my-module", PY_DECLARATION_SOURCE, [], "python", root);
    await writeModule("example", IMPLEMENTATION_SOURCE, [], "typescript", root);
    const usage = await writeModule("usage", USAGE_SOURCE, ["my-module", "example"], "typescript", root);
    const r = await call(usage, "test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "number is: 42");
  });

  test("an interface declared in Go takes a Python object", {
    timeout: SLOW,
    skip: existsSync(GO_BASE) && existsSync(PY_BASE) ? false : "the Go or Python runtime is not built",
  }, async () => {
    const root = await fs.mkdtemp(path.join(dir, "go-"));
    await writeModule("my-module", GO_DECLARATION_SOURCE, [], "go", root);
    await writeModule("example", PY_IMPLEMENTATION_SOURCE, [], "python", root);
    const usage = await writeModule("usage", USAGE_SOURCE, ["my-module", "example"], "typescript", root);
    const r = await call(usage, "test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "python number is: 42");
  });

  test("a Go interface's methods return the module's own object, a list of them and a list of Directories", {
    timeout: SLOW,
    skip: existsSync(GO_BASE) ? false : "the Go runtime is not built",
  }, async () => {
    const root = await fs.mkdtemp(path.join(dir, "go-shapes-"));
    await writeModule("shapes", GO_SHAPES_SOURCE, [], "go", root);
    const usage = await writeModule("usage", SHAPES_USAGE_SOURCE, ["shapes"], "typescript", root);
    const r = await call(usage, "test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "area 9 cm2; 4 sides of 3 cm; drawn in square-3.txt");
  });

  test("a workdir Directory whose snapshot a prune removed: its ID fails naming what is gone and what to do", { timeout: SLOW }, async () => {
    const mod = await writeModule("scratch", SCRATCH_SOURCE);
    const made = await call(mod, "tree-id");
    assert.equal(made.code, 0, made.stderr);
    const id = made.stdout.trim();
    const s = await RawSession.open(engine.env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]!, {});
    try {
      const before = await s.query(`{ loadDirectoryFromID(id: ${JSON.stringify(id)}) { entries } }`);
      assert.deepEqual(before, { data: { loadDirectoryFromID: { entries: ["only.txt"] } } });
    } finally {
      await s.hangUp();
    }
    const prune = await run([CLI, "engine", "prune", "--all"], { env, timeoutMs: SLOW });
    assert.equal(prune.code, 0, prune.stderr);
    const after = await RawSession.open(engine.env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]!, {});
    try {
      const r = await after.query(`{ loadDirectoryFromID(id: ${JSON.stringify(id)}) { entries } }`);
      assert.equal(r.errors?.length, 1, JSON.stringify(r));
      assert.match(
        r.errors![0]!.message,
        /currentModule\.workdir "\/scratch\/kept" of module "scratch" \(content sha256:[0-9a-f]{64}\) is gone: this engine no longer holds its snapshot host\/[0-9a-f]{64} \(removed by garbage collection or a prune\)\. Call the module's function that returned it again/,
      );
    } finally {
      await after.hangUp();
    }
  });
});
