/**
 * The TypeScript runtime against a real engine (opened in this process:
 * overlayfs, runc, the runtime base tarball): the files `init` writes, and a
 * runtime container for the starter module in which tsc type-checks the
 * module, the official SDK's introspector (what registration runs) finds
 * its functions and types, and tsx loads the dispatch entrypoint. The nested
 * session the entrypoint then needs is the module engine's part.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultConfig } from "../../../config/engine-config.js";
import { type Container, withExec } from "../../../core/container.js";
import { execResult, readFileAt, solve } from "../../../core/evaluate.js";
import { changeFs } from "../../../core/filesystem.js";
import type { RequestContext } from "../../../core/types.js";
import { Directory } from "../../../core/values.js";
import { Engine } from "../../../server/engine.js";
import { createLogger } from "../../../server/log.js";
import { introspectionWith } from "../../codegen/typescript/testing.js";
import type { ModuleInfo } from "../types.js";
import { findRuntimeTarball, typescriptBase } from "./base-image.js";
import { typescriptRuntime } from "./runtime.js";
import { SDK_BUNDLE_FILE, SDK_LIBRARY_DIR } from "./sdk-files.js";

async function run(ctx: RequestContext, c: Container, args: string[]) {
  const started = Date.now();
  const r = await execResult(ctx, withExec(c, { args, expect: "ANY" }));
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

describe("TypeScript SDK runtime", { timeout: 600_000 }, () => {
  let engine: Engine;
  let root: string;
  let ctx: RequestContext;
  let introspection: string;
  const end: Array<() => void> = [];

  before(async () => {
    await findRuntimeTarball(); // fails with how to build it
    root = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-ts-runtime-"));
    const config = { ...defaultConfig(), root, gc: { enabled: false }, network: { ...defaultConfig().network, enabled: false } };
    engine = await Engine.open(config, createLogger({ debug: false, write: () => undefined }));
    const session = engine.sessions.create({});
    session.attach(() => undefined); // a session nobody attaches to expires
    end.push(() => session.end());
    ctx = { deps: engine.deps, session, signal: session.signal };
    // Core plus a stand-in dependency (Query.toy → Toy).
    introspection = await introspectionWith(["toy"]);
  });
  after(async () => {
    for (const f of end) f();
    await engine?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  /** A context directory holding dagger.json and the files generatedFiles gives, at `.dagger`. */
  async function starterModule(): Promise<ModuleInfo> {
    const empty: ModuleInfo = { name: "my-module", originalName: "my-module", sourceSubpath: ".dagger", contextDirectory: new Directory(undefined, "/") };
    const generated = await typescriptRuntime.generatedFiles(ctx, empty, introspection);
    const context = changeFs(
      undefined,
      [
        { action: "mkfile", path: "/dagger.json", contents: '{"name":"my-module","sdk":{"source":"typescript"},"source":".dagger"}\n', permissions: 0o644 },
        { action: "copy", from: generated, dest: "/.dagger" },
      ],
      "module context",
    );
    return { ...empty, contextDirectory: new Directory(context, "/") };
  }

  test("generatedFiles: package.json, tsconfig.json, sdk/ with the generated client, the starter", async () => {
    const mod = await starterModule();
    const read = async (p: string) => (await readFileAt(ctx, mod.contextDirectory.source, path.posix.join("/.dagger", p))).toString("utf8");
    assert.deepEqual(JSON.parse(await read("package.json")), { type: "module", dependencies: { typescript: "5.9.3" } });
    const tsconfig = JSON.parse(await read("tsconfig.json"));
    assert.equal(tsconfig.compilerOptions.experimentalDecorators, true);
    assert.deepEqual(tsconfig.compilerOptions.paths["@dagger.io/dagger"], ["./sdk/index.ts"]);
    const starter = await read("src/index.ts");
    assert.match(starter, /@object\(\)\nexport class MyModule \{/);
    assert.match(starter, /containerEcho\(stringArg: string\): Container \{/);
    assert.match(starter, /async grepDir\(directoryArg: Directory, pattern: string\): Promise<string> \{/);
    assert.match(await read("sdk/client.gen.ts"), /^import \{ Context \} from "\.\/core\.js"$/m);
    assert.match(await read("sdk/core.js"), new RegExp(`from "${SDK_BUNDLE_FILE}"`));
    // A module with its own source keeps it: no starter.
    const again = await typescriptRuntime.generatedFiles(ctx, mod, introspection);
    await assert.rejects(readFileAt(ctx, again.source, "/src/index.ts"), /no such file or directory/);
  });

  test("runtime: tsc type-checks the module, the SDK's introspector reads it, dag knows the dependency, tsx loads the entrypoint; cached", async () => {
    const mod = await starterModule();
    let started = Date.now();
    const base = await typescriptBase(ctx);
    await solve(ctx, base.state.rootfs!);
    const baseSeconds = (Date.now() - started) / 1000;
    started = Date.now();
    const c = await typescriptRuntime.runtime(ctx, mod, introspection);
    assert.equal(c.state.workdir, "/src/.dagger");
    assert.deepEqual(c.state.entrypoint, ["tsx", "--no-deprecation", "--tsconfig", "/src/.dagger/tsconfig.json", "/src/.dagger/src/__dagger.entrypoint.ts"]);

    // The image bundles the library (engine-image/typescript-runtime.mjs): the module loads that one file.
    assert.match((await readFileAt(ctx, c.state.rootfs, "/src/.dagger/sdk/core.js")).toString(), new RegExp(`from "${SDK_BUNDLE_FILE}"`));
    const tsc = await run(ctx, c, ["tsc", "--noEmit", "-p", "tsconfig.json"]);
    assert.equal(tsc.exitCode, 0, `tsc:\n${tsc.combined}`);
    const firstSeconds = (Date.now() - started) / 1000;

    const scan = [
      `import { scan } from "${SDK_LIBRARY_DIR}/dist/src/module/introspector/index.js"`,
      'const m = await scan(["/src/.dagger/sdk/client.gen.ts", "/src/.dagger/src/index.ts"], "my-module")',
      "console.log(JSON.stringify(m.objects))",
    ].join("\n");
    const withScan = c.with({ rootfs: changeFs(c.state.rootfs, [{ action: "mkfile", path: "/tmp/scan.mts", contents: scan, permissions: 0o644 }], "scan") });
    const scanned = await run(ctx, withScan, ["tsx", "--tsconfig", "/src/.dagger/tsconfig.json", "/tmp/scan.mts"]);
    assert.equal(scanned.exitCode, 0, `scan:\n${scanned.combined}`);
    const objects = JSON.parse(scanned.stdout.trim().split("\n").at(-1) || "{}");
    const main = objects.MyModule;
    assert.ok(main, `MyModule is found: ${scanned.stdout}`);
    assert.deepEqual(Object.keys(main.methods).sort(), ["containerEcho", "grepDir"]);
    assert.deepEqual(main.methods.containerEcho.returnType, { kind: "OBJECT_KIND", name: "Container" });
    assert.deepEqual(main.methods.grepDir.arguments.directoryArg.type, { kind: "OBJECT_KIND", name: "Directory" });

    // Module code's `dag` is the generated client (it knows the dependency), on the library's connection.
    const dagCheck = [
      'import { dag } from "@dagger.io/dagger"',
      `import { Context } from "${SDK_BUNDLE_FILE}"`,
      "const ctx = (dag.container() as any)._ctx",
      "console.log(JSON.stringify({ toy: typeof dag.toy, context: ctx instanceof Context, connection: ctx._connection === new Context()._connection }))",
    ].join("\n");
    const withDagCheck = c.with({
      rootfs: changeFs(c.state.rootfs, [{ action: "mkfile", path: "/src/.dagger/check/dag.ts", contents: dagCheck, permissions: 0o644 }], "dag check"),
    });
    const dag = await run(ctx, withDagCheck, ["tsx", "--tsconfig", "/src/.dagger/tsconfig.json", "/src/.dagger/check/dag.ts"]);
    assert.equal(dag.exitCode, 0, `dag check:\n${dag.combined}`);
    assert.deepEqual(JSON.parse(dag.stdout.trim()), { toy: "function", context: true, connection: true });

    // The entrypoint's imports all resolve; it stops at connecting (no session here).
    const loaded = await run(ctx, c.withEnvVariable("_EXPERIMENTAL_DAGGER_CLI_BIN", "/bin/false"), c.state.entrypoint);
    assert.notEqual(loaded.exitCode, 0);
    assert.doesNotMatch(loaded.combined, /ERR_MODULE_NOT_FOUND|Cannot find module|SyntaxError|TransformError/, loaded.combined);

    started = Date.now();
    const again = await typescriptRuntime.runtime(ctx, mod, introspection);
    assert.equal(again.state.rootfs?.digest, c.state.rootfs?.digest, "same recipe");
    const tsc2 = await run(ctx, again, ["tsc", "--noEmit", "-p", "tsconfig.json"]);
    assert.equal(tsc2.exitCode, 0);
    const cachedSeconds = (Date.now() - started) / 1000;
    process.stderr.write(
      `typescript runtime: base import ${baseSeconds.toFixed(1)}s, first build + tsc ${firstSeconds.toFixed(1)}s, cached ${cachedSeconds.toFixed(1)}s\n`,
    );
    assert.ok(cachedSeconds < firstSeconds, `cached (${cachedSeconds}s) is faster than the first (${firstSeconds}s)`);
  });
});
