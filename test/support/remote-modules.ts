/**
 * Modules on an engine that runs elsewhere (the engine image in Docker, reached
 * through docker-container://): `tanto init`, `functions` and `call` for the
 * TypeScript, Python and Go starters, and a TypeScript and a Python module
 * with a third-party dependency from the package index. The modules live in a directory of this host only, so their
 * files reach the engine through the session. Used by test/engine-image.test.ts,
 * which has the image built, loaded and running.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { pipIndexSettings } from "../../src/modules/runtimes/python/dependencies.js";
import { CLI, REPO, run } from "./engine.js";
import { STARTER_FUNCTIONS } from "./fixtures.js";

/** Where the engine container finds the CA bundles passed in. */
const PIP_CA = "/etc/tanto/pip-ca.crt";
const NPM_CA = "/etc/tanto/npm-ca.crt";

/**
 * `docker run` flags that give an engine container this host's package-index
 * settings, as an operator would: pip's index URLs and CA, npm's registry and
 * extra CA (the CA files mounted read-only; the engine passes them into the
 * runtimes). Empty where this host has none.
 */
export async function packageIndexFlags(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const flags: string[] = [];
  const pip = await pipIndexSettings(env);
  if (pip.indexUrl) flags.push("-e", `PIP_INDEX_URL=${pip.indexUrl}`);
  if (pip.extraIndexUrls.length > 0) flags.push("-e", `PIP_EXTRA_INDEX_URL=${pip.extraIndexUrls.join(" ")}`);
  if (pip.cert) flags.push("-v", `${await fs.realpath(pip.cert)}:${PIP_CA}:ro`, "-e", `PIP_CERT=${PIP_CA}`);
  const npmRegistry = env["npm_config_registry"] ?? env["NPM_CONFIG_REGISTRY"];
  if (npmRegistry) flags.push("-e", `npm_config_registry=${npmRegistry}`);
  const npmCa = env["NODE_EXTRA_CA_CERTS"];
  if (npmCa) flags.push("-v", `${await fs.realpath(npmCa)}:${NPM_CA}:ro`, "-e", `NODE_EXTRA_CA_CERTS=${NPM_CA}`);
  return flags;
}

export interface RemoteModuleRun {
  /** Environment reaching the engine (its runner host). */
  env: NodeJS.ProcessEnv;
  /** A fresh directory of this host for the modules. */
  dir: string;
  /** Whether a path exists inside the engine's container. */
  existsInEngine(p: string): Promise<boolean>;
  /** Lines "step: seconds" are added here. */
  timings: string[];
  timeoutMs: number;
}

/** Runs `tanto ARGS` in `cwd`, times it, and returns its stdout; fails on a non-zero exit. */
async function tanto(r: RemoteModuleRun, label: string, args: string[], cwd: string): Promise<string> {
  const t0 = Date.now();
  const res = await run([CLI, ...args], { env: r.env, cwd, timeoutMs: r.timeoutMs });
  r.timings.push(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  assert.equal(res.code, 0, `tanto ${args.join(" ")} in ${cwd}: ${res.stderr.slice(-4000)}`);
  return res.stdout;
}

/** `init --sdk=SDK` in a fresh directory, `functions`, then `call container-echo … stdout`. */
async function starter(r: RemoteModuleRun, sdk: "typescript" | "python" | "go"): Promise<void> {
  const mod = path.join(r.dir, `${sdk}-starter`);
  await fs.mkdir(mod);
  const init = await tanto(r, `${sdk}: init`, ["init", `--sdk=${sdk}`, "--name=remote-mod"], mod);
  assert.equal(init, `Initialized module remote-mod in ${mod}\n`);
  assert.equal(JSON.parse(await fs.readFile(path.join(mod, "dagger.json"), "utf8")).sdk.source, sdk);
  assert.equal(await tanto(r, `${sdk}: functions`, ["functions"], mod), STARTER_FUNCTIONS);
  const said = `hello from ${sdk}`;
  assert.equal(await tanto(r, `${sdk}: call container-echo`, ["call", "container-echo", "--string-arg", said, "stdout"], mod), `${said}\n`);
}

/** A TypeScript module that imports an npm package its package.json adds. */
const NPM_DEP_SOURCE = `import { object, func } from "@dagger.io/dagger"
import ms from "ms"

@object()
export class NpmDep {
  /** A duration in milliseconds, parsed by the ms package */
  @func()
  millis(text: string): number {
    return ms(text)
  }
}
`;

export async function modulesThroughRemoteEngine(r: RemoteModuleRun): Promise<void> {
  assert.equal(await r.existsInEngine(r.dir), false, `the engine's container cannot see ${r.dir}: files must go through the session`);
  await starter(r, "typescript");
  await starter(r, "python");
  await starter(r, "go");
  // Dependencies from the package indexes, with the settings and CA the engine's container was given.
  const npmDep = path.join(r.dir, "npm-dep");
  await fs.mkdir(npmDep);
  await tanto(r, "typescript: init (npm dependency)", ["init", "--sdk=typescript", "--name=npm-dep"], npmDep);
  const pkg = JSON.parse(await fs.readFile(path.join(npmDep, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  pkg.dependencies["ms"] = "2.1.3";
  await fs.writeFile(path.join(npmDep, "package.json"), JSON.stringify(pkg, null, 2));
  await fs.writeFile(path.join(npmDep, "src", "index.ts"), NPM_DEP_SOURCE);
  assert.equal(await tanto(r, "typescript: call millis (npm install)", ["call", "millis", "--text", "2m"], npmDep), "120000");
  const deps = path.join(r.dir, "python-deps");
  await fs.cp(path.join(REPO, "test", "modules", "python-deps"), deps, { recursive: true });
  assert.equal(await tanto(r, "python: call six-version (uv install)", ["call", "six-version"], deps), "six 1.16.0");
}
