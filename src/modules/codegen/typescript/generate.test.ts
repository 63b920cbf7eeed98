/**
 * The client generator on tanto's own schema: its output type-checks with a
 * module's sdk/ and sample modules (and rejects a wrong one), names every
 * core method and option the way the official package's client.gen.d.ts
 * does, and builds the same query trees as the official client at run time.
 * The TypeScript compiler is the one @dagger.io/dagger itself depends on.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
// The compiler API of the TypeScript @dagger.io/dagger depends on (tanto builds with TypeScript 7, which has none).
import type TS from "../../../../node_modules/@dagger.io/dagger/node_modules/typescript/lib/typescript.js";
import { SDK_CORE_D_TS, SDK_INDEX_TS, SDK_TELEMETRY_TS, starterIndexTs, updateTsconfig } from "../../runtimes/typescript/sdk-files.js";
import { generateTypescriptClient } from "./generate.js";
import { coreIntrospection, introspectionWith } from "./testing.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../..");
const SDK_DIST = path.join(REPO, "node_modules/@dagger.io/dagger/dist/src");
const ts = createRequire(path.join(REPO, "node_modules/@dagger.io/dagger/package.json"))("typescript") as typeof TS;

/** Method signatures of each class and keys of each `…Opts` type, from TypeScript source or declarations. */
function surface(text: string, file: string) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const show = (n: TS.Node | undefined) => (n ? n.getText(sf).replace(/\s+/g, " ") : "");
  const params = (ps: readonly TS.ParameterDeclaration[]) => ps.map((p) => `${p.name.getText(sf)}${p.questionToken ? "?" : ""}: ${show(p.type)}`).join(", ");
  const classes = new Map<string, Map<string, string>>();
  const opts = new Map<string, Map<string, string>>();
  for (const st of sf.statements) {
    if (ts.isClassDeclaration(st) && st.name) {
      const methods = new Map<string, string>();
      for (const m of st.members) {
        if (!ts.isPropertyDeclaration(m) || !ts.isIdentifier(m.name) || m.name.text.startsWith("_")) continue;
        const fn = m.type && ts.isFunctionTypeNode(m.type) ? m.type : m.initializer && ts.isArrowFunction(m.initializer) ? m.initializer : undefined;
        if (fn) methods.set(m.name.text, `(${params(fn.parameters)}) => ${show(fn.type).replace(/^Promise<(.*)>$/, "$1")}`);
      }
      classes.set(st.name.text, methods);
    }
    if (ts.isTypeAliasDeclaration(st) && st.name.text.endsWith("Opts") && ts.isTypeLiteralNode(st.type)) {
      opts.set(st.name.text, new Map(st.type.members.map((m) => [m.name!.getText(sf), show((m as TS.PropertySignature).type)])));
    }
  }
  return { classes, opts };
}

describe("TypeScript client generator", () => {
  let core: string;
  let dir: string;
  before(async () => {
    core = await coreIntrospection();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-codegen-"));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("core methods and options are named and typed as in the official client.gen.d.ts", async () => {
    const ours = surface(generateTypescriptClient(core), "client.gen.ts");
    const theirs = surface(await fs.readFile(path.join(SDK_DIST, "api/client.gen.d.ts"), "utf8"), "client.gen.d.ts");
    const differences: string[] = [];
    let compared = 0;
    for (const [cls, methods] of ours.classes) {
      const official = theirs.classes.get(cls);
      assert.ok(official, `class ${cls} exists in the official client`);
      for (const [name, sig] of methods) {
        compared++;
        if (official.get(name) !== sig) differences.push(`${cls}.${name}: ${sig} | official ${official.get(name) ?? "missing"}`);
      }
    }
    for (const [name, keys] of ours.opts) {
      const official = theirs.opts.get(name);
      for (const [key, type] of keys) {
        compared++;
        if (official?.get(key) !== type) differences.push(`${name}.${key}: ${type} | official ${official?.get(key) ?? "missing"}`);
      }
    }
    assert.ok(compared > 250, `compared ${compared} members`);
    // What remains differs in tanto's schema itself, not in how it is generated.
    assert.deepEqual(differences, [
      "Container.withNewFile: (path: string, opts?: ContainerWithNewFileOpts) => Container | official (path: string, contents: string, opts?: ContainerWithNewFileOpts) => Container",
      // Byte counts and times are Float in tanto's schema: its GraphQL Int has 32 bits, Dagger's 64.
      ...["EngineCache.maxUsedSpace", "EngineCache.minFreeSpace", "EngineCache.reservedSpace", "EngineCache.targetSpace"].map(
        (f) => `${f}: () => float | official () => number`,
      ),
      ...[
        "EngineCacheEntry.createdTimeUnixNano",
        "EngineCacheEntry.diskSpaceBytes",
        "EngineCacheEntry.mostRecentUseTimeUnixNano",
        "EngineCacheEntrySet.diskSpaceBytes",
      ].map((f) => `${f}: () => float | official () => number`),
      "ContainerWithNewFileOpts.contents: string | official missing",
    ]);
  });

  test("the client, sdk/ and modules type-check together; a wrong module does not", async () => {
    const json = await introspectionWith(["toy"]);
    const files: Record<string, string> = {
      "tsconfig.json": updateTsconfig(undefined),
      "package.json": '{"type":"module"}\n',
      "sdk/client.gen.ts": generateTypescriptClient(json),
      "sdk/index.ts": SDK_INDEX_TS,
      "sdk/telemetry.ts": SDK_TELEMETRY_TS,
      "sdk/core.d.ts": SDK_CORE_D_TS,
      "src/index.ts": starterIndexTs("sample-mod"),
      "src/more.ts": `import { dag, CacheSharingMode, Container, ContainerID, EnvVariable, Toy, ToyKind, object, func } from "@dagger.io/dagger"

@object()
export class More {
  @func()
  async build(): Promise<string> {
    const c: Container = dag
      .container()
      .from("alpine")
      .withMountedCache("/cache", dag.cacheVolume("x"), { sharing: CacheSharingMode.Locked })
      .withExec(["echo", "hi"], { expect: undefined })
    const synced: Container = await c.sync()
    const envs: EnvVariable[] = await synced.envVariables()
    const id: ContainerID = await dag.loadContainerFromID((await c.id()) as unknown as ContainerID).id() as unknown as ContainerID
    const toy: Toy = dag.toy("a", { kind: ToyKind.Wood }).rename("b")
    return (await toy.name()) + envs.length + id + (await c.stdout())
  }
}
`,
    };
    const write = async (root: string, extra: Record<string, string>) => {
      for (const [name, text] of Object.entries({ ...files, ...extra })) {
        await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
        await fs.writeFile(path.join(root, name), text);
      }
    };
    const check = (root: string) => {
      const config = ts.parseJsonConfigFileContent(JSON.parse(files["tsconfig.json"]!), ts.sys, root);
      const program = ts.createProgram(config.fileNames, { ...config.options, noEmit: true, types: [], ignoreDeprecations: "6.0" });
      return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    };
    const good = path.join(dir, "good");
    await write(good, {});
    assert.deepEqual(check(good), []);
    const bad = path.join(dir, "bad");
    await write(bad, { "src/wrong.ts": 'import { dag } from "@dagger.io/dagger"\nexport const x = dag.container().withExec("echo hi")\n' });
    const errors = check(bad);
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0]!, /'string' is not assignable to parameter of type 'string\[\]'/);
  });

  test("the generated client builds the official client's query trees", async () => {
    const contextJs = pathToFileURL(path.join(SDK_DIST, "common/context.js")).href;
    const source = generateTypescriptClient(core, { contextImport: contextJs });
    const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
    const file = path.join(dir, "client.gen.mjs");
    await fs.writeFile(file, js);
    type Chain = { _ctx: { _queryTree: unknown } };
    // biome-ignore lint/suspicious/noExplicitAny: both clients are driven the same way
    const chains = (m: any): Chain[] => {
      const c = m.dag;
      return [
        c.container().from("alpine:3.20").withExec(["echo", "hi"], { useEntrypoint: true }),
        c.container().withMountedCache("/cache", c.cacheVolume("k"), { sharing: m.CacheSharingMode.Locked }).withEnvVariable("A", "b").directory("/cache"),
        c
          .host()
          .directory(".", { exclude: ["node_modules"] })
          .file("x"),
        c.git("https://example.com/r.git").branch("main").tree(),
        c.container().asTarball({ forcedCompression: m.ImageLayerCompression.Zstd }),
      ];
    };
    const tree = (ch: Chain) =>
      JSON.stringify(ch._ctx._queryTree, (_k, v) =>
        typeof v === "function" ? `fn:${v.name}` : v && typeof v === "object" && "_ctx" in v ? { ctx: v._ctx._queryTree } : v,
      );
    const ours = chains(await import(pathToFileURL(file).href)).map(tree);
    const official = chains(await import(pathToFileURL(path.join(SDK_DIST, "api/client.gen.js")).href)).map(tree);
    assert.deepEqual(ours, official);
  });
});
