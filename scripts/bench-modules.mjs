/**
 * The module rows of `npm run bench` (scripts/bench.mjs, `--only modules`): what a TypeScript
 * module costs through the CLI, on the bench's engine (warm: the runtime base image imported
 * once by a first module before anything is timed).
 *
 *   1. first call of a fresh module: `tanto init --sdk=typescript` of a module never seen (its
 *      own name and code), then the timed `tanto call` (registration, runtime build, the call);
 *   2. a repeated cached `tanto call` of the same function against the same pipeline written as
 *      a plain SDK script run with `tanto run node`, interleaved: both are one CLI process each,
 *      from start to exit, with every exec a cache hit.
 *
 * The function and the script run `container().from(busybox).withExec(["echo", msg]).stdout()`.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Goals of issue 11, in ms. */
export const MODULE_GOALS = { firstCallMs: 15_000, cachedCallMs: 1_000 };

const moduleSource = (cls, image, salt) => `import { dag, object, func } from "@dagger.io/dagger"

@object()
export class ${cls} {
  /** Echoes a message from a container (${salt}) */
  @func()
  async echo(msg: string): Promise<string> {
    return await dag.container().from(${JSON.stringify(image)}).withExec(["echo", msg]).stdout()
  }
}
`;

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

/** `h`: bench.mjs's helpers: summarize, log, checkInterrupted, warmup. */
export async function benchModules({ dir, tanto, socket, registryHost, iterations, firstRuns, h }) {
  const image = `${registryHost}/busybox:latest`;
  const env = { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `unix://${socket}` };
  const base = path.join(dir, "modules");
  fs.mkdirSync(base, { recursive: true });
  const nonce = `${process.pid}-${Date.now()}`;

  const makeModule = async (name) => {
    const at = path.join(base, name);
    await runCli(tanto, ["init", "--sdk=typescript", `--name=${name}`, at], { cwd: base, env });
    const cls = name[0].toUpperCase() + name.slice(1);
    fs.writeFileSync(path.join(at, "src", "index.ts"), moduleSource(cls, image, `${nonce} ${name}`));
    return at;
  };
  const call = async (at, msg) => {
    const r = await runCli(tanto, ["call", "echo", "--msg", msg], { cwd: at, env });
    if (r.stdout !== `${msg}\n`) throw new Error(`tanto call echo printed ${JSON.stringify(r.stdout)}, expected ${JSON.stringify(`${msg}\n`)}`);
    return r.ms;
  };

  // Warm engine: the runtime base image imported, tsx and the SDK loaded once.
  h.log("modules: warming the engine with a first module");
  await call(await makeModule("warmup"), "warm");

  const first = [];
  for (let i = 0; i < firstRuns; i++) {
    h.checkInterrupted();
    const at = await makeModule(`fresh${i}`);
    const ms = await call(at, `first ${i}`);
    first.push(ms);
    h.log(`modules: first call of fresh module ${i}: ${Math.round(ms)} ms`);
  }

  const at = await makeModule("cached");
  await call(at, "same");
  const script = path.join(base, "plain.mjs");
  fs.writeFileSync(script, plainScript(import.meta.resolve("@dagger.io/dagger"), image));
  const plain = async () => {
    const r = await runCli(tanto, ["run", "node", script, "same"], { cwd: base, env });
    if (r.stdout !== "same\n") throw new Error(`the plain SDK script printed ${JSON.stringify(r.stdout)}`);
    return r.ms;
  };
  await plain();
  const samples = { module: [], plain: [] };
  for (let i = -h.warmup; i < iterations; i++) {
    for (const which of i % 2 === 0 ? ["module", "plain"] : ["plain", "module"]) {
      h.checkInterrupted();
      const ms = which === "module" ? await call(at, "same") : await plain();
      if (i >= 0) samples[which].push(ms);
    }
  }
  const out = { firstCall: h.summarize(first), cachedCall: h.summarize(samples.module), plainScript: h.summarize(samples.plain) };
  h.log(`modules: cached call ${out.cachedCall.median} ms vs plain SDK script ${out.plainScript.median} ms`);
  return out;
}

export function moduleRows(m, fmtSummary, verdict) {
  return [
    [
      "module first call (fresh module, warm engine), `tanto call`",
      fmtSummary(m.firstCall),
      "—",
      "—",
      `≤${MODULE_GOALS.firstCallMs / 1000} s`,
      verdict(m.firstCall.median <= MODULE_GOALS.firstCallMs),
    ],
    [
      "module cached call vs the same pipeline as a plain SDK script (`tanto run node`)",
      fmtSummary(m.cachedCall),
      fmtSummary(m.plainScript),
      `${(m.cachedCall.median / m.plainScript.median).toFixed(2)}x`,
      `≤${MODULE_GOALS.cachedCallMs} ms`,
      verdict(m.cachedCall.median <= MODULE_GOALS.cachedCallMs),
    ],
  ];
}
