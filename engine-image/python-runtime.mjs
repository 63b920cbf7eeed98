#!/usr/bin/env node
// The base image of Python module runtimes: Debian 12 (mmdebstrap on the host,
// as engine-image/base.mjs does for the engine) with Debian's python3 (3.11)
// and a virtual environment at /opt/venv holding the official dagger-io
// package and uv. No public image registry is reachable, so the engine imports
// this OCI layout tarball instead of pulling python:*-slim (see
// src/modules/runtimes/python/).
//
//   node engine-image/python-runtime.mjs     # run by scripts/install.sh
//
// The wheels come from the index this machine's pip is configured for: pip
// downloads them here (its configuration, CA and credentials stay on the
// host) for CPython 3.11 on Linux, and pip inside the image installs them from
// that directory with no network. The tarball is cached in ~/.cache/tanto (or
// $TANTO_CACHE_DIR) under a hash of the recipe; a link to it is kept at
// dist/share/python-runtime.tar, where an engine running from this checkout
// finds it; engine-image/build.mjs copies it to /usr/local/share/tanto/.
import * as fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BASE_RECIPE, ensureAndLinkRuntime, ensureDebianImage, runStep } from "./base.mjs";

/** The file name the engine looks for (src/modules/runtimes/python/base-image.ts). */
export const PYTHON_RUNTIME_FILE = "python-runtime.tar";

/** The Python packages of the runtime, pinned (MODULES.md §7: SDK 0.21.11, uv 0.10.3). */
export const RUNTIME_PYTHON_PACKAGES = ["dagger-io==0.21.11", "uv==0.10.3"];

/** Where the image has its virtual environment (as Dagger's runtime: UV_PROJECT_ENVIRONMENT). */
export const VENV = "/opt/venv";

const MACHINE = { x64: "x86_64", arm64: "aarch64", s390x: "s390x", ppc64: "ppc64le" }[process.arch] ?? process.arch;

export function pythonRuntimeRecipe() {
  return {
    snapshot: BASE_RECIPE.snapshot,
    suite: BASE_RECIPE.suite,
    variant: "minbase",
    mirrors: BASE_RECIPE.mirrors,
    // Debian 12's CPython 3.11 with venv (ensurepip's bundled pip), CAs for uv and pip.
    packages: ["ca-certificates", "python3", "python3-venv"],
    dpkgOptions: BASE_RECIPE.dpkgOptions.filter((o) => !o.includes("qemu")),
    sourceDateEpoch: BASE_RECIPE.sourceDateEpoch,
    python: { version: "3.11", machine: MACHINE },
    pythonPackages: RUNTIME_PYTHON_PACKAGES,
    venv: VENV,
    // The image's file times are clamped to sourceDateEpoch, which would make
    // every timestamp-checked .pyc stale (each import compiling again): the
    // standard library and the venv are compiled to hash-checked bytecode.
    bytecode: "checked-hash",
    env: [],
  };
}

/** Wheels for CPython 3.11 on glibc Linux of this machine's architecture. */
function platformArgs(machine) {
  const tags = ["manylinux_2_36", "manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014", "manylinux_2_5", "manylinux1", "linux"];
  return tags.flatMap((t) => ["--platform", `${t}_${machine}`]);
}

/** Download the wheels into `work/wheels`; return the mmdebstrap hooks that install them into /opt/venv. */
async function stageWheels(recipe, work, log) {
  const wheels = path.join(work, "wheels");
  await fs.mkdir(wheels, { recursive: true });
  log(`python-runtime: pip download ${recipe.pythonPackages.join(" ")}`);
  const python = process.env.PYTHON ?? "python3";
  await runStep(
    python,
    [
      "-m",
      "pip",
      "download",
      "--quiet",
      "--no-cache-dir",
      "--dest",
      wheels,
      "--only-binary=:all:",
      "--implementation",
      "cp",
      "--python-version",
      recipe.python.version,
      "--abi",
      `cp${recipe.python.version.replace(".", "")}`,
      ...platformArgs(recipe.python.machine),
      ...recipe.pythonPackages,
    ],
    {},
    `${python} not found: python3 with pip is needed to build the Python runtime`,
  );
  // Inside the root filesystem, with a clean environment: nothing of the host's pip settings.
  const inRoot = (cmd) => `chroot "$1" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 ${cmd}`;
  return [
    `cp -a '${wheels}' "$1/tmp/tanto-wheels"`,
    inRoot(`python3 -m venv ${recipe.venv}`),
    inRoot(
      `${recipe.venv}/bin/pip install --quiet --no-index --no-cache-dir --disable-pip-version-check --find-links /tmp/tanto-wheels ${recipe.pythonPackages.join(" ")}`,
    ),
    `rm -rf "$1/tmp/tanto-wheels"`,
    // Some standard library test files do not compile on purpose: the exit status is not checked.
    inRoot(`python3 -m compileall -q -f -j0 --invalidation-mode ${recipe.bytecode} /usr/lib/python3.11 ${recipe.venv}/lib/python3.11/site-packages`) +
      " || true",
  ];
}

/** The runtime base tarball: from the cache, or built now. Returns { path, cached, seconds }. */
export async function ensurePythonRuntime({ log = (l) => process.stderr.write(l + "\n") } = {}) {
  const recipe = pythonRuntimeRecipe();
  return ensureDebianImage({ recipe, name: "python-runtime", log, stage: (work) => stageWheels(recipe, work, log) });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await ensureAndLinkRuntime("python-runtime", PYTHON_RUNTIME_FILE, ensurePythonRuntime);
}
