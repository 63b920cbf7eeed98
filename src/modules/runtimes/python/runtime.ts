/**
 * The Python SDK runtime (MODULES.md §7): the container that runs a module's
 * code through the official dagger-io package's own entrypoint
 * (`dagger.mod.cli.app`), and the files `init`/`develop` write. Layout inside
 * the container, for source subpath <sub> and project <p>:
 *
 *   /opt/venv/                                   the base image's venv: dagger-io 0.21.11, uv
 *   /opt/venv/…/site-packages/dagger/client/gen.py   the client with the dependencies' types
 *                                                (unchanged when the module has none)
 *   /opt/venv/…/site-packages/tanto-module.pth   /src/<sub>/src and /src/<sub> on sys.path
 *   /opt/venv/…/site-packages/<p>-<v>.dist-info/ the project's metadata and entry points, as
 *                                                an editable install has them
 *   /src/<sub>/…                                 the module's source (no sdk/, .venv)
 *   /runtime                                     `sys.exit(app(None, "--register" in argv))`
 *   env DAGGER_MODULE, DAGGER_DEFAULT_PYTHON_PACKAGE, DAGGER_MAIN_OBJECT
 *
 * The project is made importable the way an editable install does it, with
 * no build backend to fetch; third-party dependencies are installed by uv
 * (dependencies.ts). Every step is a recipe the solver caches by content.
 */
import * as path from "node:path";
import { type Container, withExec } from "../../../core/container.js";
import { globDir, statAt } from "../../../core/evaluate.js";
import { type Change, changeFs } from "../../../core/filesystem.js";
import type { RequestContext } from "../../../core/types.js";
import { Directory } from "../../../core/values.js";
import { generatePythonClient } from "../../codegen/python/generate.js";
import { readOptional, sourceDir } from "../module-files.js";
import type { ModuleInfo, SdkRuntime } from "../types.js";
import { pythonBase, wheelGenPy } from "./base-image.js";
import { withPythonDependencies } from "./dependencies.js";
import { entryPointsTxt, normalizeDistName, parsePyproject } from "./pyproject.js";
import {
  PYTHON_SDK_VERSION,
  pythonNames,
  RUNTIME_EXECUTABLE,
  RUNTIME_PY,
  SDK_GEN_PATH,
  SDK_PACKAGE_DIR,
  SDK_PYPROJECT,
  SITE_PACKAGES,
  starterInitPy,
  starterMainPy,
  starterPyproject,
  VENDOR_DIR,
  VENV,
} from "./sdk-files.js";

const PATH = `${VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

async function hasPythonSource(ctx: RequestContext, src: Directory): Promise<boolean> {
  if (!src.source) return false;
  const found = await globDir(ctx, src.source, src.path, "**/*.py").catch(() => []);
  return found.some((f) => !f.split("/").includes(VENDOR_DIR) && !f.split("/").includes(".venv"));
}

const file = (p: string, contents: string, permissions = 0o644): Change => ({ action: "mkfile", path: p, contents, permissions });

export class PythonRuntime implements SdkRuntime {
  async generatedFiles(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Directory> {
    const names = pythonNames(mod.originalName || mod.name);
    const src = sourceDir(mod);
    const base = await pythonBase(ctx);
    const client = generatePythonClient(introspectionJson, await wheelGenPy(ctx, base));
    const changes: Change[] = [
      // The vendored SDK: the wheel's package, its project file, the client for this schema.
      { action: "copy", from: new Directory(base.state.rootfs, SDK_PACKAGE_DIR), dest: `/${VENDOR_DIR}/src/dagger`, exclude: ["**/__pycache__"] },
      file(`/${VENDOR_DIR}/pyproject.toml`, SDK_PYPROJECT),
      file(`/${VENDOR_DIR}/${SDK_GEN_PATH}`, client),
    ];
    if ((await readOptional(ctx, src, "pyproject.toml")) === undefined) changes.push(file("/pyproject.toml", starterPyproject(names)));
    if (!(await hasPythonSource(ctx, src))) {
      changes.push(file(`/src/${names.package}/__init__.py`, starterInitPy(names)), file(`/src/${names.package}/main.py`, starterMainPy(names)));
    }
    return new Directory(changeFs(undefined, changes, `python sdk files for ${mod.name}`), "/");
  }

  async runtime(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Container> {
    const names = pythonNames(mod.originalName || mod.name);
    const src = sourceDir(mod);
    const workdir = path.posix.join("/src", mod.sourceSubpath || ".");
    const at = (p: string) => path.posix.join(workdir, p);
    const project = parsePyproject(await readOptional(ctx, src, "pyproject.toml"));
    const base = await pythonBase(ctx);
    const change = (c: Container, changes: Change[], name: string) => c.with({ rootfs: changeFs(c.state.rootfs, changes, name) });

    let c = base
      .withWorkdir(workdir)
      .withEnvVariable("PATH", PATH)
      .withEnvVariable("VIRTUAL_ENV", VENV)
      .withEnvVariable("PYTHONUNBUFFERED", "1")
      .withEnvVariable("PIP_DISABLE_PIP_VERSION_CHECK", "1")
      .withEnvVariable("PIP_ROOT_USER_ACTION", "ignore");
    c = await withPythonDependencies(ctx, c, project.dependencies);

    // The client with the dependencies' types, when the schema has any.
    const wheel = await wheelGenPy(ctx, base);
    const client = generatePythonClient(introspectionJson, wheel);
    const compile: string[] = [];
    if (client !== wheel) {
      c = change(c, [file(`${SDK_PACKAGE_DIR}/client/gen.py`, client)], "python client for the module's dependencies");
      compile.push(`${SDK_PACKAGE_DIR}/client/gen.py`);
    }

    // The project, importable as an editable install makes it.
    const dist = `${normalizeDistName(project.name ?? names.project).replace(/-/g, "_")}-${project.version ?? "0.0.0"}.dist-info`;
    const srcLayout = (await statAt(ctx, src.source, path.posix.join(src.path, "src")))?.type === "DIRECTORY";
    const metadata = `Metadata-Version: 2.1\nName: ${project.name ?? names.project}\nVersion: ${project.version ?? "0.0.0"}\n`;
    c = change(
      c,
      [
        file(`${SITE_PACKAGES}/tanto-module.pth`, `${[...(srcLayout ? [at("src")] : []), workdir].join("\n")}\n`),
        file(`${SITE_PACKAGES}/${dist}/METADATA`, metadata),
        file(`${SITE_PACKAGES}/${dist}/INSTALLER`, "tanto\n"),
        ...(Object.keys(project.entryPoints).length > 0 ? [file(`${SITE_PACKAGES}/${dist}/entry_points.txt`, entryPointsTxt(project.entryPoints))] : []),
        file(RUNTIME_EXECUTABLE, RUNTIME_PY, 0o755),
      ],
      "python project install",
    );
    c = change(c, [{ action: "copy", from: src, dest: workdir, exclude: [VENDOR_DIR, ".venv", "**/__pycache__"] }], `module source ${mod.name}`);
    // Bytecode once here rather than at every call (a syntax error is left for the SDK to report).
    c = withExec(c, { args: ["python", "-m", "compileall", "-q", "--invalidation-mode", "checked-hash", ...compile, workdir], expect: "ANY" });
    return c
      .withEnvVariable("DAGGER_MODULE", names.module)
      .withEnvVariable("DAGGER_DEFAULT_PYTHON_PACKAGE", names.package)
      .withEnvVariable("DAGGER_MAIN_OBJECT", names.mainObject)
      .with({ entrypoint: [RUNTIME_EXECUTABLE], defaultArgs: [] });
  }
}

/** The Python SDK runtime the module engine uses. */
export const pythonRuntime: SdkRuntime = new PythonRuntime();

export { PYTHON_SDK_VERSION };
