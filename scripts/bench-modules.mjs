/**
 * The module rows of `npm run bench` (scripts/bench.mjs, `--only modules`): for each SDK
 * runtime (Python, TypeScript), `tanto call` of a module's function through the CLI on a warm
 * engine (the runtime base image already imported):
 *   - first call of a fresh module: `tanto init` of a new module (not timed), its function
 *     replaced by one that returns a string, then `tanto call` (registration, constructor and
 *     function calls, each running the module's code) — `runs` fresh modules;
 *   - the same call repeated: answered from the function cache — `iterations` times.
 * Goals: first call ≤ 30 s, cached call ≤ 1 s.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";

export const MODULE_GOALS = { firstCallMs: 30_000, cachedCallMs: 1_000 };

const SOURCES = {
  python: (n) => ({
    file: `src/bench${n}/main.py`,
    text: `from dagger import function, object_type\n\n\n@object_type\nclass Bench${n}:\n    @function\n    def greet(self, name: str) -> str:\n        return f"hello, {name}"\n`,
  }),
  typescript: (n) => ({
    file: "src/index.ts",
    text: `import { object, func } from "@dagger.io/dagger"\n\n@object()\nexport class Bench${n} {\n  @func()\n  greet(name: string): string {\n    return \`hello, \${name}\`\n  }\n}\n`,
  }),
};

/** `h`: bench.mjs's helpers: timedRun, summarize, log, checkInterrupted, warmup. */
export async function benchModules({ dir, tanto, socket, runs, iterations, h }) {
  const env = { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `unix://${socket}` };
  const cli = (args, cwd) => h.timedRun(process.execPath, [tanto, ...args], env, cwd);
  const out = {};
  for (const sdk of Object.keys(SOURCES)) {
    const first = [];
    let mod = "";
    for (let i = 0; i <= runs; i++) {
      h.checkInterrupted();
      // Module 0 only warms the engine up (imports the runtime base image); it is not timed.
      mod = path.join(dir, `bench-${sdk}-${i}`);
      await cli(["init", `--sdk=${sdk}`, `--name=bench${i}`, mod], dir);
      const src = SOURCES[sdk](i);
      await fs.writeFile(path.join(mod, src.file), src.text);
      const ms = await cli(["call", "greet", "--name", "x"], mod);
      if (i > 0) first.push(ms);
      h.log(`${sdk} module ${i}: first call ${(ms / 1000).toFixed(1)} s${i === 0 ? " (warm-up, not counted)" : ""}`);
    }
    const cached = [];
    for (let i = 0; i < iterations + h.warmup; i++) {
      h.checkInterrupted();
      const ms = await cli(["call", "greet", "--name", "x"], mod);
      if (i >= h.warmup) cached.push(ms);
    }
    out[sdk] = { firstCall: h.summarize(first), cachedCall: h.summarize(cached) };
  }
  return out;
}

const NAMES = { python: "Python", typescript: "TypeScript" };

export function moduleRows(m, fmtSummary) {
  const ok = (yes) => (yes ? "ok" : "**missed**");
  return Object.entries(m).flatMap(([sdk, r]) => [
    [
      `${NAMES[sdk]} module: first tanto call of a fresh module (warm engine)`,
      fmtSummary(r.firstCall),
      "—",
      "—",
      `≤${MODULE_GOALS.firstCallMs / 1000} s`,
      ok(r.firstCall.median <= MODULE_GOALS.firstCallMs),
    ],
    [
      `${NAMES[sdk]} module: the same tanto call again (cached)`,
      fmtSummary(r.cachedCall),
      "—",
      "—",
      `≤${MODULE_GOALS.cachedCallMs} ms`,
      ok(r.cachedCall.median <= MODULE_GOALS.cachedCallMs),
    ],
  ]);
}
