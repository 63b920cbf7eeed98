#!/usr/bin/env node
// The base image of Go module runtimes: Debian 12 (mmdebstrap, as
// engine-image/base.mjs) with this machine's Go toolchain at /usr/local/go
// and, under /usr/local/share/tanto/go/:
//
//   template/   go.mod + go.sum a new module starts from (dagger.io/dagger v0.21.9)
//   gomod/      a module cache holding the library and its dependencies
//   gocache/    a build cache with them compiled (-trimpath, CGO off)
//
// The runtime (src/modules/runtimes/go/) mounts cache volumes at /go/pkg/mod
// and /root/.cache/go-build that start as copies of gomod/ and gocache/, so
// a module's first build compiles only its own package. No public image
// registry is reachable, so the engine imports this OCI layout tarball
// instead of pulling golang:*-alpine.
//
//   node engine-image/go-runtime.mjs      # run by scripts/install.sh
//
// tanto's generator (go-codegen/) is not in the image: each runtime builds it
// from its sources, a step the solver caches.
//
// The tarball is cached in ~/.cache/tanto under a hash of the recipe (the Go
// binary's digest, the library version, the host's
// GOPROXY/GOSUMDB settings). Modules come through this machine's Go settings
// (go env), first from its own module cache. A link to it is kept at
// dist/share/go-runtime.tar; engine-image/build.mjs copies it into the engine image.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BASE_RECIPE, ensureAndLinkRuntime, ensureDebianImage, runStep } from "./base.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const codegenDir = path.join(here, "go-codegen");

/** The file name the engine looks for (src/modules/runtimes/go/base-image.ts). */
export const GO_RUNTIME_FILE = "go-runtime.tar";
/** The official Go SDK library modules are built against (MODULES.md §8). */
export const GO_SDK_VERSION = "v0.21.9";
/** Packages the generated code imports besides the library. */
const TEMPLATE_IMPORTS = ["dagger.io/dagger", "github.com/dagger/querybuilder", "github.com/vektah/gqlparser/v2/gqlerror"];
/** go env settings carried into the image (the module runtime's downloads go the host's way). */
const GO_SETTINGS = ["GOPROXY", "GOSUMDB", "GONOSUMDB", "GONOPROXY", "GOPRIVATE", "GOINSECURE"];

function goEnv(names) {
  const out = execFileSync("go", ["env", "-json", ...names], { encoding: "utf8" });
  return JSON.parse(out);
}

export function goRuntimeRecipe() {
  const env = goEnv(["GOROOT", "GOVERSION", "GOMODCACHE", ...GO_SETTINGS]);
  const goDigest = createHash("sha256")
    .update(readFileSync(path.join(env.GOROOT, "bin", "go")))
    .update(readFileSync(path.join(env.GOROOT, "pkg", "tool", `linux_${goArch()}`, "compile")))
    .digest("hex");
  const settings = GO_SETTINGS.filter((k) => env[k]).map((k) => `${k}=${env[k]}`);
  return {
    snapshot: BASE_RECIPE.snapshot,
    suite: BASE_RECIPE.suite,
    variant: "minbase",
    mirrors: BASE_RECIPE.mirrors,
    // CAs for the module proxy; the toolchain is static, CGO is off.
    packages: ["ca-certificates"],
    dpkgOptions: BASE_RECIPE.dpkgOptions.filter((o) => !o.includes("qemu")),
    sourceDateEpoch: BASE_RECIPE.sourceDateEpoch,
    go: { version: env.GOVERSION, root: env.GOROOT, sha256: goDigest },
    sdk: GO_SDK_VERSION,
    hostModCache: env.GOMODCACHE,
    // Layout revision: 2 = the generator's standard packages in the build cache, GOROOT trimmed;
    // 3 = the module cache complete (go mod download).
    layout: 3,
    env: ["GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOMODCACHE=/go/pkg/mod", "GOCACHE=/root/.cache/go-build", "GOPATH=/go", ...settings],
  };
}

function goArch() {
  return { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" }[process.arch] ?? process.arch;
}

/** Lay out the toolchain, codegen, template, module and build caches in `work`; returns the copy hook. */
async function stage(recipe, work, log) {
  const share = path.join(work, "share");
  const gomod = path.join(share, "gomod");
  const gocache = path.join(share, "gocache");
  const template = path.join(share, "template");
  const bin = path.join(work, "bin");
  await fs.mkdir(template, { recursive: true });
  await fs.mkdir(bin, { recursive: true });
  const hostProxy = recipe.env.find((e) => e.startsWith("GOPROXY="))?.slice(8) || "https://proxy.golang.org,direct";
  const goenv = {
    ...process.env,
    GOMODCACHE: gomod,
    GOCACHE: gocache,
    GOFLAGS: "-mod=mod -modcacherw",
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0",
    // This machine's module cache first: what it has is not downloaded again.
    GOPROXY: `file://${path.join(recipe.hostModCache, "cache", "download")},${hostProxy}`,
  };

  // The generator, built as each runtime builds it from its sources (go-codegen/): the standard
  // packages it uses (go/parser, go/format, …) land in the build cache too.
  await runStep("go", ["build", "-trimpath", "-buildvcs=false", "-o", path.join(bin, "tanto-go-codegen"), "."], {
    cwd: codegenDir,
    env: { ...goenv, GOFLAGS: "-modcacherw", GOPROXY: "off" },
  });

  log(`go-runtime: template module (dagger.io/dagger ${GO_SDK_VERSION})`);
  await fs.writeFile(path.join(template, "go.mod"), `module dagger/template\n\ngo 1.26.1\n\nrequire dagger.io/dagger ${GO_SDK_VERSION}\n`);
  await fs.writeFile(path.join(template, "main.go"), `package main\n\nimport (\n${TEMPLATE_IMPORTS.map((i) => `\t_ "${i}"\n`).join("")})\n\nfunc main() {}\n`);
  await runStep("go", ["mod", "tidy"], { cwd: template, env: goenv });
  // Every module of the build list complete (.info too), so that building needs no proxy.
  await runStep("go", ["mod", "download"], { cwd: template, env: goenv });
  await fs.rm(path.join(template, "main.go"));

  // Warm the build cache with the starter module, built as the runtime builds modules.
  log("go-runtime: compiling the library into the build cache");
  const warm = path.join(work, "warm");
  await fs.mkdir(warm);
  const libDir = path.join(gomod, `dagger.io/dagger@${GO_SDK_VERSION}`);
  await runStep(path.join(bin, "tanto-go-codegen"), ["-name", "warm", "-dir", warm, "-lib", libDir, "-template", template, "-init"], { env: goenv });
  await runStep("go", ["build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", path.join(work, "warm.bin"), "."], {
    cwd: warm,
    env: { ...goenv, GOFLAGS: "-modcacherw", GOPROXY: "off" },
  });
  await fs.rm(path.join(gomod, "cache", "vcs"), { recursive: true, force: true });

  const goroot = recipe.go.root;
  return [
    `mkdir -p "$1/usr/local/go" "$1/usr/local/share/tanto/go" "$1/go/pkg/mod" "$1/root/.cache/go-build"`,
    `cp -a '${goroot}/.' "$1/usr/local/go/"`,
    // What building needs none of: tests, docs, and the tools besides compile/asm/link/cgo.
    `cd "$1/usr/local/go" && rm -rf test api doc misc pkg/tool/*/fix pkg/tool/*/vet pkg/tool/*/cover pkg/tool/*/preprofile && find src -type d -name testdata -prune -exec rm -rf {} +`,
    `ln -s /usr/local/go/bin/go "$1/usr/local/bin/go" && ln -s /usr/local/go/bin/gofmt "$1/usr/local/bin/gofmt"`,
    `cp -a '${share}/.' "$1/usr/local/share/tanto/go/"`,
  ];
}

/** The runtime base tarball: from the cache, or built now. Returns { path, cached, seconds }. */
export async function ensureGoRuntime({ log = (l) => process.stderr.write(l + "\n") } = {}) {
  const recipe = goRuntimeRecipe();
  return ensureDebianImage({ recipe, name: "go-runtime", log, stage: (work) => stage(recipe, work, log) });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await ensureAndLinkRuntime("go-runtime", GO_RUNTIME_FILE, ensureGoRuntime);
}
