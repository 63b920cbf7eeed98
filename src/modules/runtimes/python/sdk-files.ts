/**
 * The files the Python SDK puts in a module (MODULES.md §7): the starter
 * `init` writes (pyproject.toml, src/<package>/__init__.py and main.py), the
 * vendored SDK's pyproject.toml under sdk/, and the /runtime entrypoint, plus
 * the names Dagger derives from the module's name.
 *
 * Where tanto differs from Dagger: `requires-python` is ">=3.11" (the runtime
 * base is Debian 12's CPython 3.11, not python:3.14-slim), and no uv.lock is
 * written (the runtime installs from pyproject.toml; see dependencies.ts).
 */
import { kebab, pascalCase } from "../../names.js";

/** The SDK's version: the wheel the runtime base image holds (engine-image/python-runtime.mjs). */
export const PYTHON_SDK_VERSION = "0.21.11";
/** Where the base image has its virtual environment and the SDK. */
export const VENV = "/opt/venv";
export const SITE_PACKAGES = `${VENV}/lib/python3.11/site-packages`;
export const SDK_PACKAGE_DIR = `${SITE_PACKAGES}/dagger`;
export const RUNTIME_EXECUTABLE = "/runtime";
/** Where the vendored SDK goes under the module's code directory, and the generated client in it. */
export const VENDOR_DIR = "sdk";
export const SDK_GEN_PATH = "src/dagger/client/gen.py";
/** What `init`/`develop` mark as generated (.gitattributes) and ignore (.gitignore), as Dagger's Codegen. */
export const VCS_GENERATED_PATHS = ["sdk/**"];
export const VCS_IGNORED_PATHS = [".venv", "**/__pycache__", "sdk"];

export interface PythonNames {
  /** The module's name (DAGGER_MODULE). */
  module: string;
  /** The distribution name in pyproject.toml (PEP 508, kebab). */
  project: string;
  /** The import package (DAGGER_DEFAULT_PYTHON_PACKAGE). */
  package: string;
  /** The main object's class name (DAGGER_MAIN_OBJECT). */
  mainObject: string;
}

export function pythonNames(moduleName: string): PythonNames {
  const mainObject = pascalCase(moduleName) || "Main";
  const project = kebab(mainObject) || "main";
  return { module: moduleName, project, package: project.replace(/-/g, "_"), mainObject };
}

/** The runtime's entrypoint: the SDK's own module CLI. */
export const RUNTIME_PY = `#!${VENV}/bin/python
import sys

from dagger.mod.cli import app

if __name__ == "__main__":
    sys.exit(app(None, "--register" in sys.argv[1:]))
`;

/** The starter pyproject.toml, with the vendored SDK as dagger-io's source (Dagger's VendorConfig). */
export function starterPyproject(names: PythonNames): string {
  return `[project]
name = "${names.project}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["dagger-io"]

[build-system]
requires = ["uv_build>=0.8.4,<0.9.0"]
build-backend = "uv_build"

[tool.uv.sources]
dagger-io = { path = "${VENDOR_DIR}", editable = true }
`;
}

const STARTER_DOC = `"""A generated module for ${"{MAIN}"} functions

This module has been generated via dagger init and serves as a reference to
basic module structure as you get started with Dagger.

Two functions have been pre-created. You can modify, delete, or add to them,
as needed. They demonstrate usage of arguments and return types using simple
echo and grep commands. The functions can be called from the dagger CLI or
from one of the SDKs.

The first line in this comment block is a short description line and the
rest is a long description with more detail on the module's purpose or usage,
if appropriate. All modules should have a short description.
"""
`;

export function starterInitPy(names: PythonNames): string {
  return `${STARTER_DOC.replace("{MAIN}", names.mainObject)}
from .main import ${names.mainObject} as ${names.mainObject}
`;
}

export function starterMainPy(names: PythonNames): string {
  return `${STARTER_DOC.replace("{MAIN}", names.mainObject)}
import dagger
from dagger import dag, function, object_type


@object_type
class ${names.mainObject}:
    @function
    def container_echo(self, string_arg: str) -> dagger.Container:
        """Returns a container that echoes whatever string argument is provided"""
        return dag.container().from_("alpine:latest").with_exec(["echo", string_arg])

    @function
    async def grep_dir(self, directory_arg: dagger.Directory, pattern: str) -> str:
        """Returns lines that match a pattern in the files of the provided Directory"""
        return await (
            dag.container()
            .from_("alpine:latest")
            .with_mounted_directory("/mnt", directory_arg)
            .with_workdir("/mnt")
            .with_exec(["grep", "-R", pattern, "."])
            .stdout()
        )
`;
}

/** The vendored SDK's own pyproject.toml (the wheel's metadata as a project). */
export const SDK_PYPROJECT = `[project]
name = "dagger-io"
version = "${PYTHON_SDK_VERSION}"
description = "A client package for running Dagger pipelines in Python."
requires-python = ">=3.10"
license = "Apache-2.0"
dependencies = [
    "anyio>=3.6.2",
    "beartype>=0.22.0",
    "cattrs>=25.1.0",
    "exceptiongroup>=1.3.0",
    "gql[httpx]>=4.0",
    "httpcore>=1.0.8",
    "opentelemetry-exporter-otlp-proto-http>=1.23.0",
    "opentelemetry-instrumentation-logging>=0.54b1",
    "opentelemetry-sdk>=1.23.0",
    "platformdirs>=2.6.2",
    "rich>=10.11.0",
    "typing-extensions>=4.13.0",
    "yarl!=1.24.1",
]

[build-system]
requires = ["uv_build>=0.8.4,<0.9.0"]
build-backend = "uv_build"

[tool.uv.build-backend]
module-name = "dagger"
`;
