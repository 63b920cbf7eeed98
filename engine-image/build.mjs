// The engine image, built by tanto itself with the official Dagger SDK:
//
//   bin/tanto run node engine-image/build.mjs [--output bin/engine.tar] [--tag localhost/tanto-engine.dev:latest]
//                                             [--stage DIR [--reuse-stage]]
//
// Three steps:
//   1. the Debian base (engine-image/base.mjs: mmdebstrap on the host, once per
//      package list, cached in ~/.cache/tanto), and the TypeScript module
//      and Python module runtimes' bases (engine-image/typescript-runtime.mjs,
//      python-runtime.mjs), carried at /usr/local/share/tanto/*-runtime.tar, and the Go one's
//      (engine-image/go-runtime.mjs) at go-runtime.tar, with the sources of
//      tanto's Go module codegen at /usr/local/share/tanto/go-codegen/;
//   2. tanto's bundles, the same as `npm run build` makes into dist/bundle (scripts/bundle.mjs,
//      from the compiled dist/src: build first), staged with tanto's native addons and the native packages
//      they load into dist/engine-image/tanto;
//   3. the pipeline: import the base, add Node.js (this machine's binary: Debian's
//      nodejs is too old), the bundle, the entrypoint and engine.toml, link the
//      CNI plugins and qemu emulators where tools expect them, check that tanto
//      runs inside, and export a `docker load`-able tarball named `--tag`.
//
// Every input is content-addressed on the engine's side, so a second build with
// no source change runs nothing (see `tanto engine stats`). Prints a JSON
// summary on stdout.

import * as fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connection, dag } from "@dagger.io/dagger";
import { stageForImage } from "../scripts/bundle.mjs";
import { tagArchiveInPlace } from "./archive-tags.mjs";
import { ensureBase, QEMU_ARCHES } from "./base.mjs";
import { ensureGoRuntime, GO_RUNTIME_FILE } from "./go-runtime.mjs";
import { ensurePythonRuntime, PYTHON_RUNTIME_FILE } from "./python-runtime.mjs";
import { ensureTypescriptRuntime, TYPESCRIPT_RUNTIME_FILE } from "./typescript-runtime.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const { values: opts } = parseArgs({
  options: {
    output: { type: "string", default: path.join(repo, "bin/engine.tar") },
    tag: { type: "string", default: "localhost/tanto-engine.dev:latest" },
    // Where the bundle is staged; --reuse-stage takes what is there instead of
    // bundling again (a CI step that bundled once, or a test that must build
    // twice from exactly the same sources while others edit them).
    stage: { type: "string", default: path.join(repo, "dist/engine-image/tanto") },
    "reuse-stage": { type: "boolean", default: false },
  },
});
const output = path.resolve(opts.output);
/** The command line's entry in the stage (and under /usr/local/lib/tanto). */
const ENTRY = "bundle/cli/main.cjs";
const log = (line) => process.stderr.write(`engine-image: ${line}\n`);
const started = Date.now();

const base = await ensureBase({ log });
log(`base ${base.cached ? "from cache" : `built in ${base.seconds.toFixed(1)}s`}: ${base.path}`);
// The TypeScript module runtime's base, which the engine imports from /usr/local/share/tanto.
const tsRuntime = await ensureTypescriptRuntime({ log });
log(`typescript runtime base ${tsRuntime.cached ? "from cache" : `built in ${tsRuntime.seconds.toFixed(1)}s`}: ${tsRuntime.path}`);
const pyRuntime = await ensurePythonRuntime({ log });
log(`python runtime base ${pyRuntime.cached ? "from cache" : `built in ${pyRuntime.seconds.toFixed(1)}s`}: ${pyRuntime.path}`);
const goRuntime = await ensureGoRuntime({ log });
log(`go runtime base ${goRuntime.cached ? "from cache" : `built in ${goRuntime.seconds.toFixed(1)}s`}: ${goRuntime.path}`);

const stage = path.resolve(opts.stage);
const version = /VERSION = "([^"]+)"/.exec(await fs.readFile(path.join(repo, "src/version.ts"), "utf8"))?.[1] ?? "dev";
if (opts["reuse-stage"]) {
  await fs.access(path.join(stage, ENTRY)).catch(() => {
    throw new Error(`--reuse-stage: no bundle in ${stage}; run once without it`);
  });
  log(`reusing the bundle in ${stage}`);
} else {
  const bundleBytes = await stageForImage(stage, repo);
  log(`bundled tanto ${version} (${(bundleBytes / 1e6).toFixed(1)} MB)`);
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Links the base needs: CNI plugins where CNI tools look by default, and the
// emulators under the names BuildKit's tooling uses (qemu-<arch>).
const links = [
  "set -eu",
  "mkdir -p /opt/cni/bin /usr/local/share/tanto /var/lib/tanto /run/tanto",
  'for p in /usr/lib/cni/*; do ln -sf "$p" "/opt/cni/bin/$(basename "$p")"; done',
  ...QEMU_ARCHES.map((a) => `ln -sf /usr/bin/qemu-${a}-static /usr/local/bin/qemu-${a}`),
].join("\n");

const script = (body) => `#!/bin/sh\n${body}\n`;

let summary;
await connection(async () => {
  const host = dag.host();
  const image = dag
    .container()
    .import_(host.file(base.path))
    .withEnvVariable("PATH", PATH)
    .withExec(["sh", "-c", links])
    .withFile("/usr/local/bin/node", host.file(process.execPath), { permissions: 0o755 })
    .withDirectory("/usr/local/lib/tanto", host.directory(stage))
    .withNewFile("/usr/local/bin/tanto", script(`exec /usr/local/bin/node /usr/local/lib/tanto/${ENTRY} "$@"`), { permissions: 0o755 })
    .withNewFile("/usr/local/bin/tanto-engine", script('exec /usr/local/bin/tanto engine "$@"'), { permissions: 0o755 })
    .withFile("/usr/local/bin/tanto-entrypoint.sh", host.file(path.join(here, "tanto-entrypoint.sh")), { permissions: 0o755 })
    .withFile("/etc/tanto/engine.toml", host.file(path.join(here, "engine.toml")), { permissions: 0o644 })
    .withFile(`/usr/local/share/tanto/${TYPESCRIPT_RUNTIME_FILE}`, host.file(tsRuntime.path), { permissions: 0o644 })
    .withFile(`/usr/local/share/tanto/${PYTHON_RUNTIME_FILE}`, host.file(pyRuntime.path), { permissions: 0o644 })
    .withFile(`/usr/local/share/tanto/${GO_RUNTIME_FILE}`, host.file(goRuntime.path), { permissions: 0o644 })
    .withDirectory("/usr/local/share/tanto/go-codegen", host.directory(path.join(here, "go-codegen")))
    .withLabel("org.opencontainers.image.title", "tanto engine")
    .withLabel("org.opencontainers.image.version", version)
    .withEntrypoint(["/usr/local/bin/tanto-entrypoint.sh"]);

  // A check that is not part of the image: the bundle runs on this base.
  const reported = (await image.withExec(["tanto", "version"]).stdout()).trim();
  if (reported !== `tanto ${version}`) throw new Error(`tanto inside the image says "${reported}", want "tanto ${version}"`);

  log(`image solved at ${((Date.now() - started) / 1000).toFixed(1)}s`);

  await fs.mkdir(path.dirname(output), { recursive: true });
  const tmp = `${output}.partial`;
  await image.export(tmp);
  log(`exported at ${((Date.now() - started) / 1000).toFixed(1)}s`);
  await tagArchiveInPlace(tmp, opts.tag);
  await fs.rename(tmp, output);
  summary = {
    output,
    tag: opts.tag,
    version,
    bytes: (await fs.stat(output)).size,
    base: { path: base.path, cached: base.cached, seconds: base.seconds },
    seconds: (Date.now() - started) / 1000,
  };
});

log(`wrote ${output} (${(summary.bytes / 1e6).toFixed(0)} MB, ${opts.tag}) in ${summary.seconds.toFixed(1)}s`);
process.stdout.write(JSON.stringify(summary) + "\n");
