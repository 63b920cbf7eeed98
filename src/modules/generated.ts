/**
 * What `init`/`develop` write (core/schema/modulesource.go runGeneratedContext,
 * runCodegen): the context directory with dagger.json rewritten, the SDK's
 * generated files under the code directory, and .gitattributes/.gitignore
 * entries marking them generated and ignored.
 */
import * as path from "node:path";
import { readFileAt } from "../core/evaluate.js";
import { type Change, changeFs } from "../core/filesystem.js";
import type { RequestContext } from "../core/types.js";
import { Directory, File } from "../core/values.js";
import { moduleInfo } from "./call.js";
import { formatModuleConfig } from "./config.js";
import { moduleIntrospectionJson } from "./introspection.js";
import { sourceSubpath } from "./module-source.js";
import { asModule } from "./register.js";
import { sdkRuntime } from "./runtimes/registry.js";
import { dirOf, type ModuleData, type SourceData } from "./values.js";

/** Paths each SDK marks generated (linguist-generated) and ignored, relative to the code directory. */
const VCS: Record<string, { generated: string[]; ignored: string[] }> = {
  typescript: { generated: ["sdk/**"], ignored: ["sdk", "**/node_modules/**", "**/.pnpm-store/**"] },
  python: { generated: ["sdk/**"], ignored: ["/sdk", "/.venv", "/**/__pycache__"] },
  go: {
    generated: ["dagger.gen.go", "internal/dagger/**", "internal/querybuilder/**", "internal/telemetry/**"],
    ignored: ["dagger.gen.go", "internal/dagger", "internal/querybuilder", "internal/telemetry"],
  },
};

export function schemaFile(json: string): File {
  return new File(
    changeFs(undefined, [{ action: "mkfile", path: "/schema.json", contents: json, permissions: 0o644 }], "introspection schema.json"),
    "/schema.json",
  );
}

export async function generatedContextDirectory(ctx: RequestContext, s: SourceData, mod: ModuleData | undefined): Promise<Directory> {
  const context = dirOf(s.context);
  const changes: Change[] = [];
  const rootDir = path.posix.join(context.path, s.rootSubpath);
  changes.push({ action: "mkdir", path: rootDir, permissions: 0o755 });
  changes.push({ action: "mkfile", path: path.posix.join(rootDir, "dagger.json"), contents: formatModuleConfig(s.config), permissions: 0o644 });
  const sdk = s.config.sdk?.source.replace(/@.*$/, "");
  if (sdk) {
    const base: ModuleData = mod ?? {
      name: s.config.name,
      originalName: s.config.name,
      description: "",
      sdk,
      objects: [],
      interfaces: [],
      enums: [],
      source: s,
      // The dependencies' types go into the generated client (dag.<dep>()), as Dagger's develop does.
      dependencies: await Promise.all(s.dependencies.map((d) => asModule(ctx, d))),
    };
    const runtime = await sdkRuntime(sdk);
    const files = await runtime.generatedFiles(ctx, moduleInfo(base), await moduleIntrospectionJson(ctx, base));
    const codeDir = path.posix.join(context.path, sourceSubpath(s));
    changes.push({ action: "copy", from: files, dest: codeDir });
    const vcs = VCS[sdk];
    if (vcs) {
      changes.push(
        ...(await appendLines(
          ctx,
          context,
          codeDir,
          ".gitattributes",
          vcs.generated.map((p) => `/${p.replace(/^\//, "")} linguist-generated`),
        )),
      );
      if (s.config.codegen?.automaticGitignore !== false) {
        changes.push(
          ...(await appendLines(
            ctx,
            context,
            codeDir,
            ".gitignore",
            vcs.ignored.map((p) => `/${p.replace(/^\//, "")}`),
          )),
        );
      }
    }
  }
  return new Directory(changeFs(context.source, changes, `generated context of module ${s.config.name}`), context.path);
}

/** `file` under `dir` with `lines` added (those it lacks). */
async function appendLines(ctx: RequestContext, context: Directory, dir: string, file: string, lines: string[]): Promise<Change[]> {
  const at = path.posix.join(dir, file);
  const had = context.source ? ((await readFileAt(ctx, context.source, at).catch(() => undefined))?.toString("utf8") ?? "") : "";
  const have = new Set(had.split("\n"));
  const missing = lines.filter((l) => !have.has(l));
  if (missing.length === 0) return [];
  const text = `${had}${had && !had.endsWith("\n") ? "\n" : ""}${missing.join("\n")}\n`;
  return [{ action: "mkfile", path: at, contents: text, permissions: 0o644 }];
}
