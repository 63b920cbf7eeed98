/**
 * The Go SDK runtime (MODULES.md §8): the container that runs a module
 * written for the official Go SDK (dagger.io/dagger), and the files
 * `init`/`develop` write. Layout inside the container, for source subpath <sub>:
 *
 *   /src/…                          the module's context directory
 *   /src/<sub>/dagger.gen.go        written by tanto-go-codegen (package main: registration, dispatch)
 *   /src/<sub>/internal/dagger/     written by tanto-go-codegen (the API's names)
 *   /runtime                        `go build` of /src/<sub>; the entrypoint
 *
 * The generator is built from its sources (engine-image/go-codegen) on the
 * base image. Builds use two cache volumes shared by all Go modules, the module
 * cache (/go/pkg/mod) and the build cache (/root/.cache/go-build), which start
 * as the base image's copies holding the library, so a first build compiles
 * only the module's own package. Every step is a recipe the solver caches by
 * content: a module whose source did not change is not built again.
 */
import * as path from "node:path";
import { type Container, withExec } from "../../../core/container.js";
import { type Change, changeFs } from "../../../core/filesystem.js";
import type { RequestContext } from "../../../core/types.js";
import { Directory } from "../../../core/values.js";
import type { ModuleInfo, SdkRuntime } from "../types.js";
import { goBase, goCodegenSources } from "./base-image.js";

const SHARE = "/usr/local/share/tanto/go";
/** The library's source, read by the generator. */
const LIBRARY_DIR = `${SHARE}/gomod/dagger.io/dagger@v0.21.9`;
const TEMPLATE_DIR = `${SHARE}/template`;
const CODEGEN_SRC = "/usr/local/src/tanto-go-codegen";
const CODEGEN_BIN = "/usr/local/bin/tanto-go-codegen";
/** Where generatedFiles collects what the generator writes. */
const OUT_DIR = "/tanto-generated";
/** The generated files of a module, which the runtime always writes anew. */
const GENERATED = ["dagger.gen.go", "internal/dagger"];

export const GO_MOD_CACHE_KEY = "tanto-go-mod";
export const GO_BUILD_CACHE_KEY = "tanto-go-build";
const BUILD_FLAGS = ["-trimpath", "-buildvcs=false"];

function change(c: Container, changes: Change[], name: string): Container {
  return c.with({ rootfs: changeFs(c.state.rootfs, changes, name) });
}

/**
 * The module and build caches. Seeded from the base image itself (not from a later step),
 * so that every Go module's builds share one pair of volumes: a volume is found by key and seed.
 */
function withCaches(c: Container, image: Container): Container {
  const seed = (p: string) => ({ source: image.state.rootfs, path: p });
  return c
    .withMount({ target: "/go/pkg/mod", type: "cache", key: GO_MOD_CACHE_KEY, sharing: "SHARED", from: seed(`${SHARE}/gomod`) })
    .withMount({ target: "/root/.cache/go-build", type: "cache", key: GO_BUILD_CACHE_KEY, sharing: "SHARED", from: seed(`${SHARE}/gocache`) });
}

function withoutCaches(c: Container): Container {
  return c.withoutMount("/go/pkg/mod").withoutMount("/root/.cache/go-build");
}

/** The base image with the generator built at CODEGEN_BIN. */
async function toolchain(ctx: RequestContext): Promise<{ image: Container; c: Container }> {
  const base = await goBase(ctx);
  const sources = await goCodegenSources();
  let c = change(
    base,
    [...sources].map(([name, contents]) => ({ action: "mkfile" as const, path: path.posix.join(CODEGEN_SRC, name), contents, permissions: 0o644 })),
    "tanto-go-codegen sources",
  );
  c = withCaches(c, base).withWorkdir(CODEGEN_SRC);
  c = withExec(c, { args: ["go", "build", ...BUILD_FLAGS, "-o", CODEGEN_BIN, "."], expect: "SUCCESS" });
  return { image: base, c: withoutCaches(c) };
}

const SCHEMA_FILE = "/schema.json";

function codegenArgs(mod: ModuleInfo, extra: string[]): string[] {
  return [CODEGEN_BIN, "-name", mod.originalName || mod.name, "-lib", LIBRARY_DIR, "-template", TEMPLATE_DIR, "-schema", SCHEMA_FILE, ...extra];
}

/** The context directory at /src, and the introspection JSON the generator reads the dependencies from. */
function withSource(c: Container, mod: ModuleInfo, introspectionJson: string, exclude: string[] = []): Container {
  const schema = change(c, [{ action: "mkfile", path: SCHEMA_FILE, contents: introspectionJson, permissions: 0o644 }], "introspection schema.json");
  return change(
    schema,
    [{ action: "copy", from: mod.contextDirectory, dest: "/src", ...(exclude.length > 0 ? { exclude } : {}) }],
    `module source ${mod.name}`,
  );
}

export class GoRuntime implements SdkRuntime {
  async generatedFiles(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Directory> {
    const workdir = path.posix.join("/src", mod.sourceSubpath || ".");
    let c = (await toolchain(ctx)).c;
    c = withSource(
      c,
      mod,
      introspectionJson,
      GENERATED.map((g) => path.posix.join(mod.sourceSubpath || ".", g)),
    );
    c = withExec(c.withWorkdir(workdir), { args: codegenArgs(mod, ["-dir", workdir, "-out", OUT_DIR, "-init"]), expect: "SUCCESS" });
    return new Directory(c.state.rootfs, OUT_DIR);
  }

  async runtime(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Container> {
    const workdir = path.posix.join("/src", mod.sourceSubpath || ".");
    const { image, c: tools } = await toolchain(ctx);
    let c = withSource(tools, mod, introspectionJson);
    c = c.withWorkdir(workdir);
    c = withExec(c, { args: codegenArgs(mod, ["-dir", workdir]), expect: "SUCCESS" });
    c = withExec(withCaches(c, image), { args: ["go", "build", ...BUILD_FLAGS, "-ldflags", "-s -w", "-o", "/runtime", "."], expect: "SUCCESS" });
    return withoutCaches(c).with({ entrypoint: ["/runtime"], defaultArgs: [] });
  }
}

/** The Go SDK runtime the module engine uses. */
export const goRuntime: SdkRuntime = new GoRuntime();
