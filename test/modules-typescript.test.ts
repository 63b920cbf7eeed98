/**
 * A module written for the official TypeScript SDK, run by the engine with
 * the TypeScript runtime (src/modules/runtimes/typescript): registration,
 * serving, calls returning strings and containers, a thrown error, the
 * typedefs the CLI reads, and the files `init`/`develop` would write.
 * Skipped where that runtime is not built in.
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

const SOURCE = `import { dag, Container, object, func } from "@dagger.io/dagger"

/** A greeter */
@object()
export class Hello {
  /** Greets someone */
  @func()
  greet(name: string = "world"): string {
    return \`hello, \${name}!\`
  }

  @func()
  echo(msg: string): Container {
    return dag.container().from(process.env.TANTO_TEST_IMAGE ?? "busybox").withExec(["echo", msg])
  }

  @func()
  async boom(): Promise<string> {
    throw new Error("it broke")
  }
}
`;

describe("modules: the official TypeScript SDK", { skip: existsSync(RUNTIME) ? false : "the TypeScript runtime is not built in" }, () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest` };
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-tsmod-"));
    await fs.mkdir(path.join(dir, "src"));
    await fs.writeFile(path.join(dir, "dagger.json"), JSON.stringify({ name: "hello", engineVersion: "v0.21.8", sdk: { source: "typescript" } }));
    await fs.writeFile(path.join(dir, "src", "index.ts"), SOURCE);
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("a type error fails the registration with the compiler's report; fixed, the module loads", async () => {
    const bad = path.join(dir, "typo");
    await fs.mkdir(path.join(bad, "src"), { recursive: true });
    await fs.writeFile(path.join(bad, "dagger.json"), JSON.stringify({ name: "typo", engineVersion: "v0.21.8", sdk: { source: "typescript" } }));
    const source = (value: string) =>
      `import { object, func } from "@dagger.io/dagger"\n\n@object()\nexport class Typo {\n  @func()\n  count(): number {\n    const n: number = ${value}\n    return n\n  }\n}\n`;
    await fs.writeFile(path.join(bad, "src", "index.ts"), source('"one"'));
    const r = await run([CLI, "call", "count"], { env, cwd: bad, timeoutMs: 600_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Error: /m);
    assert.match(r.stderr, /src\/index\.ts\(7,11\): error TS2322: Type 'string' is not assignable to type 'number'\./);
    await fs.writeFile(path.join(bad, "src", "index.ts"), source("1"));
    const fixed = await run([CLI, "call", "count"], { env, cwd: bad, timeoutMs: 600_000 });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(fixed.stdout, "1");
  });

  test("register, serve, call", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "modules-ts.mjs")], { env, cwd: dir, timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, { data?: Record<string, unknown>; errors?: Array<{ message: string }> }>;
    const detail = (k: string) => `${k}: ${JSON.stringify(out[k])}`;
    assert.deepEqual(
      out["module"]!.data,
      {
        moduleSource: {
          asModule: {
            name: "hello",
            description: "",
            objects: [
              {
                asObject: {
                  name: "Hello",
                  description: "A greeter",
                  functions: [
                    { name: "greet", description: "Greets someone", args: [{ name: "name", defaultValue: '"world"' }] },
                    { name: "echo", description: "", args: [{ name: "msg", defaultValue: null }] },
                    { name: "boom", description: "", args: [] },
                  ],
                },
              },
            ],
          },
        },
      },
      detail("module"),
    );
    assert.deepEqual(out["greet"], { data: { hello: { greet: "hello, tanto!" } } }, detail("greet"));
    assert.deepEqual(out["greetDefault"], { data: { hello: { greet: "hello, world!" } } });
    assert.deepEqual(out["echo"], { data: { hello: { echo: { stdout: "from ts\n" } } } }, detail("echo"));
    assert.equal(out["boom"]!.errors?.[0]?.message, "it broke", detail("boom"));
    // Query and the module's own types first, then the core types (kept with hideCore, so that chaining works).
    const typeNames = ((out["typeDefs"]!.data?.["currentTypeDefs"] ?? []) as Array<{ name: string }>).map((t) => t.name);
    assert.deepEqual(typeNames.slice(0, 2), ["Query", "Hello"]);
    assert.ok(typeNames.includes("Container") && typeNames.includes("Directory"), typeNames.join(","));
    const generated = (out["generated"]!.data?.["moduleSource"] as Record<string, Record<string, Record<string, unknown>>> | undefined)?.[
      "generatedContextDirectory"
    ];
    assert.match(String(generated?.["gitignore"]?.["contents"]), /^\/sdk$/m, detail("generated"));
    assert.ok(Number(generated?.["clientGen"]?.["size"]) > 1000);
  });
});
