/**
 * The module rows of `npm run bench` (scripts/bench.mjs, `--only modules`): what a module costs
 * through the CLI, for each SDK runtime, on the bench's engine (warm: each runtime's base image
 * imported by a first module of its SDK before anything is timed).
 *
 *   1. first call of a fresh module: `tanto init --sdk=<sdk>` of a module never seen (its own
 *      name and code), then the timed `tanto call` (registration, runtime build, the call);
 *   2. a repeated cached `tanto call` of the same function, against the same pipeline written as
 *      a plain SDK script run with `tanto run node`, interleaved: one CLI process each, from
 *      start to exit, with every exec a cache hit.
 *
 * Every module's function and the script run `container().from(busybox).withExec(["echo", msg]).stdout()`.
 * Goals: issue 11 (TypeScript: first call ≤ 15 s) and issue 12 (Python ≤ 30 s, Go ≤ 60 s); a
 * cached call ≤ 1 s for all.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { valueRow } from "./report.mjs";
import { checkInterrupted, fmtSummary, log, summarize, WARMUP } from "./util.mjs";

export const MODULE_GOALS = { firstCallMs: { typescript: 15_000, python: 30_000, go: 60_000 }, cachedCallMs: 1_000 };

const pascal = (name) => name[0].toUpperCase() + name.slice(1);

/** Where `init` puts each SDK's code, and a module of that SDK with an `echo(msg)` function. */
const SOURCES = {
  typescript: (name, image, salt) => ({
    file: "src/index.ts",
    text: `import { dag, object, func } from "@dagger.io/dagger"

@object()
export class ${pascal(name)} {
  /** Echoes a message from a container (${salt}) */
  @func()
  async echo(msg: string): Promise<string> {
    return await dag.container().from(${JSON.stringify(image)}).withExec(["echo", msg]).stdout()
  }
}
`,
  }),
  python: (name, image, salt) => ({
    file: `src/${name}/main.py`,
    text: `from dagger import dag, function, object_type


@object_type
class ${pascal(name)}:
    @function
    async def echo(self, msg: str) -> str:
        """Echoes a message from a container (${salt})"""
        return await dag.container().from_(${JSON.stringify(image)}).with_exec(["echo", msg]).stdout()
`,
  }),
  go: (name, image, salt) => ({
    file: "main.go",
    text: `package main

import "context"

type ${pascal(name)} struct{}

// Echoes a message from a container (${salt})
func (m *${pascal(name)}) Echo(ctx context.Context, msg string) (string, error) {
	return dag.Container().From(${JSON.stringify(image)}).WithExec([]string{"echo", msg}).Stdout(ctx)
}
`,
  }),
};

const plainScript = (sdkUrl, image) => `const { connection, dag } = await import(${JSON.stringify(sdkUrl)});
await connection(async () => {
  process.stdout.write(await dag.container().from(${JSON.stringify(image)}).withExec(["echo", process.argv[2]]).stdout());
});
`;

/** Runs the CLI to its exit; resolves with its time and output, rejects on a non-zero exit. */
function runCli(tanto, args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [tanto, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`tanto ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

export async function benchModules({ dir, tanto, socket, registryHost, iterations, firstRuns }) {
  const image = `${registryHost}/busybox:latest`;
  const env = { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `unix://${socket}` };
  const base = path.join(dir, "modules");
  fs.mkdirSync(base, { recursive: true });
  const nonce = `${process.pid}-${Date.now()}`;

  const makeModule = async (sdk, name) => {
    const at = path.join(base, name);
    await runCli(tanto, ["init", `--sdk=${sdk}`, `--name=${name}`, at], { cwd: base, env });
    const src = SOURCES[sdk](name, image, `${nonce} ${name}`);
    fs.writeFileSync(path.join(at, src.file), src.text);
    return at;
  };
  const call = async (at, msg) => {
    const r = await runCli(tanto, ["call", "echo", "--msg", msg], { cwd: at, env });
    if (r.stdout !== `${msg}\n`) throw new Error(`tanto call echo printed ${JSON.stringify(r.stdout)}, expected ${JSON.stringify(`${msg}\n`)}`);
    return r.ms;
  };
  const script = path.join(base, "plain.mjs");
  fs.writeFileSync(script, plainScript(import.meta.resolve("@dagger.io/dagger"), image));
  const plain = async () => {
    const r = await runCli(tanto, ["run", "node", script, "same"], { cwd: base, env });
    if (r.stdout !== "same\n") throw new Error(`the plain SDK script printed ${JSON.stringify(r.stdout)}`);
    return r.ms;
  };
  await plain();

  const out = {};
  for (const sdk of Object.keys(SOURCES)) {
    log(`modules (${sdk}): warming the engine with a first module`);
    await call(await makeModule(sdk, `${sdk}warmup`), "warm");
    const first = [];
    for (let i = 0; i < firstRuns; i++) {
      checkInterrupted();
      const ms = await call(await makeModule(sdk, `${sdk}fresh${i}`), `first ${i}`);
      first.push(ms);
      log(`modules (${sdk}): first call of fresh module ${i}: ${Math.round(ms)} ms`);
    }
    const at = await makeModule(sdk, `${sdk}cached`);
    await call(at, "same");
    const samples = { module: [], plain: [] };
    for (let i = -WARMUP; i < iterations; i++) {
      for (const which of i % 2 === 0 ? ["module", "plain"] : ["plain", "module"]) {
        checkInterrupted();
        const ms = which === "module" ? await call(at, "same") : await plain();
        if (i >= 0) samples[which].push(ms);
      }
    }
    out[sdk] = { firstCall: summarize(first), cachedCall: summarize(samples.module), plainScript: summarize(samples.plain) };
    log(`modules (${sdk}): cached call ${out[sdk].cachedCall.median} ms vs plain SDK script ${out[sdk].plainScript.median} ms`);
  }
  return out;
}

const NAMES = { typescript: "TypeScript", python: "Python", go: "Go" };

export function moduleRows(m) {
  return Object.entries(m).flatMap(([sdk, r]) => [
    valueRow(
      `${NAMES[sdk]} module: first \`tanto call\` of a fresh module (warm engine)`,
      fmtSummary(r.firstCall),
      r.firstCall.median,
      MODULE_GOALS.firstCallMs[sdk],
      "ms",
    ),
    valueRow(
      `${NAMES[sdk]} module: the same call cached vs the pipeline as a plain SDK script (\`tanto run node\`)`,
      fmtSummary(r.cachedCall),
      r.cachedCall.median,
      MODULE_GOALS.cachedCallMs,
      "ms",
      { baseline: fmtSummary(r.plainScript), ratio: r.cachedCall.median / r.plainScript.median },
    ),
  ]);
}
