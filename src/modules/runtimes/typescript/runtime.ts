/**
 * The TypeScript SDK runtime (MODULES.md §6, Node.js flavour): the container
 * that runs a module's code through the official library's entrypoint, and
 * the files `init`/`develop` write. Layout inside the container, for source
 * subpath <sub>:
 *
 *   /src/<sub>/package.json          type=module, typescript 5.9.3, no @dagger.io/dagger
 *   /src/<sub>/node_modules/         typescript linked from the image; other dependencies
 *                                    by `npm install --omit=dev` (dependencies.ts)
 *   /src/<sub>/sdk/                  index.ts, telemetry.ts, core.js(+.d.ts), client.gen.ts
 *   /src/<sub>/node_modules/@dagger.io/dagger/   the same sdk/ (for the introspector)
 *   /src/<sub>/tsconfig.json         paths @dagger.io/dagger → ./sdk/index.ts, decorators
 *   /src/<sub>/src/…                 the module's source
 *   /src/<sub>/src/__dagger.entrypoint.ts
 *   entrypoint: tsx --no-deprecation --tsconfig /src/<sub>/tsconfig.json /src/<sub>/src/__dagger.entrypoint.ts
 *
 * Every step is a recipe the solver caches by content, so a second runtime for
 * the same module reuses the dependency install and everything after it.
 */
import * as path from "node:path";
import type { Container } from "../../../core/container.js";
import { globDir, statAt } from "../../../core/evaluate.js";
import { type Change, changeFs } from "../../../core/filesystem.js";
import type { RequestContext } from "../../../core/types.js";
import { Directory } from "../../../core/values.js";
import { generateTypescriptClient } from "../../codegen/typescript/generate.js";
import { BoundedMemo } from "../../memo.js";
import { readOptional, sourceDir } from "../module-files.js";
import type { ModuleInfo, SdkRuntime } from "../types.js";
import { typescriptBase } from "./base-image.js";
import { withDependencies } from "./dependencies.js";
import {
  ENTRYPOINT_FILE,
  ENTRYPOINT_TS,
  SDK_BUNDLE_FILE,
  SDK_CORE_D_TS,
  SDK_CORE_JS,
  SDK_INDEX_TS,
  SDK_TELEMETRY_TS,
  sdkCoreJs,
  starterIndexTs,
  TYPECHECK_FILE,
  TYPECHECK_MJS,
  updatePackageJson,
  updateTsconfig,
} from "./sdk-files.js";

/** The sdk/ directory: the library's entry points and the generated client (`generateTypescriptClient`). */
export function sdkChanges(dest: string, clientGenTs: string, coreJs = SDK_CORE_JS): Change[] {
  const file = (name: string, contents: string): Change => ({ action: "mkfile", path: path.posix.join(dest, name), contents, permissions: 0o644 });
  return [
    file("index.ts", SDK_INDEX_TS),
    file("telemetry.ts", SDK_TELEMETRY_TS),
    file("core.js", coreJs),
    file("core.d.ts", SDK_CORE_D_TS),
    file("client.gen.ts", clientGenTs),
  ];
}

async function hasTypescriptSource(ctx: RequestContext, src: Directory): Promise<boolean> {
  if ((await statAt(ctx, src.source, path.posix.join(src.path, "src")))?.type !== "DIRECTORY") return false;
  return (await globDir(ctx, src.source, path.posix.join(src.path, "src"), "**/*.ts")).length > 0;
}

/** client.gen.ts by introspection JSON: the same for every module with the same dependencies. */
const clients = new BoundedMemo<string>(8);
const generatedClient = (introspectionJson: string): Promise<string> => clients.get(introspectionJson, async () => generateTypescriptClient(introspectionJson));

export class TypescriptRuntime implements SdkRuntime {
  async generatedFiles(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Directory> {
    const src = sourceDir(mod);
    const pkg = updatePackageJson(await readOptional(ctx, src, "package.json"));
    const tsconfig = updateTsconfig(await readOptional(ctx, src, "tsconfig.json"));
    const changes: Change[] = [
      { action: "mkfile", path: "/package.json", contents: pkg.text, permissions: 0o644 },
      { action: "mkfile", path: "/tsconfig.json", contents: tsconfig, permissions: 0o644 },
      ...sdkChanges("/sdk", await generatedClient(introspectionJson)),
    ];
    if (!(await hasTypescriptSource(ctx, src))) {
      changes.push({ action: "mkfile", path: "/src/index.ts", contents: starterIndexTs(mod.originalName || mod.name), permissions: 0o644 });
    }
    return new Directory(changeFs(undefined, changes, `typescript sdk files for ${mod.name}`), "/");
  }

  async runtime(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Container> {
    const src = sourceDir(mod);
    const workdir = path.posix.join("/src", mod.sourceSubpath || ".");
    const at = (p: string) => path.posix.join(workdir, p);
    const pkg = updatePackageJson(await readOptional(ctx, src, "package.json"));
    const tsconfig = updateTsconfig(await readOptional(ctx, src, "tsconfig.json"));
    const change = (c: Container, changes: Change[], name: string) => c.with({ rootfs: changeFs(c.state.rootfs, changes, name) });

    const base = await typescriptBase(ctx);
    const coreJs = sdkCoreJs((await statAt(ctx, base.state.rootfs, SDK_BUNDLE_FILE))?.type === "REGULAR");
    // A larger young generation: the SDK's introspector parses the TypeScript libs on each run, and
    // fewer scavenges make that faster.
    let c = base.withWorkdir(workdir).withEnvVariable("NODE_OPTIONS", "--use-openssl-ca --max-semi-space-size=32");
    c = change(c, [{ action: "mkfile", path: at("package.json"), contents: pkg.text, permissions: 0o644 }], "package.json");

    c = await withDependencies(ctx, c, src, workdir, pkg.dependencies);

    const client = await generatedClient(introspectionJson);
    // The SDK (also where the introspector, which ignores tsconfig paths, resolves it), tsconfig, source, entrypoint.
    c = change(
      c,
      [
        ...sdkChanges(at("sdk"), client, coreJs),
        { action: "rm", path: at("node_modules/@dagger.io/dagger"), allowNotFound: true },
        ...sdkChanges(at("node_modules/@dagger.io/dagger"), client, coreJs),
        { action: "mkfile", path: at("tsconfig.json"), contents: tsconfig, permissions: 0o644 },
      ],
      "typescript sdk",
    );
    c = change(
      c,
      [{ action: "copy", from: src, dest: workdir, exclude: ["node_modules", "sdk", "package.json", "tsconfig.json", ENTRYPOINT_FILE, TYPECHECK_FILE] }],
      `module source ${mod.name}`,
    );
    c = change(
      c,
      [
        { action: "mkfile", path: at(ENTRYPOINT_FILE), contents: ENTRYPOINT_TS, permissions: 0o644 },
        { action: "mkfile", path: at(TYPECHECK_FILE), contents: TYPECHECK_MJS, permissions: 0o644 },
      ],
      "entrypoint",
    );
    return c.with({ entrypoint: ["tsx", "--no-deprecation", "--tsconfig", at("tsconfig.json"), at(ENTRYPOINT_FILE)], defaultArgs: [] });
  }
}

/** The TypeScript SDK runtime the module engine uses. */
export const typescriptRuntime: SdkRuntime = new TypescriptRuntime();
