/**
 * The command line, run by main.ts (compiled) or as dist/bundle/cli/main.cjs
 * (bundled by scripts/bundle.mjs). The commands a session runs most —
 * `engine` (start), `query`, `session` and `run` — start on a fast path: their
 * arguments parsed by fast-args.ts and only their own modules loaded, the
 * engine from its bundle (load-bundle.ts). Everything else, and any line the
 * fast path does not fully understand (`--help`, an unknown option…), goes
 * to the full parser in program.ts.
 */
import { messageOf } from "../errors.js";
import { type FastCommand, parseFast, type Values } from "./fast-args.js";

const fast = parseFast(process.argv.slice(2));
if (fast) {
  runFast(fast).catch((err: unknown) => {
    process.stderr.write(`tanto: ${messageOf(err)}\n`);
    process.exit(1);
  });
} else {
  // No top-level await: the entry is also bundled as CommonJS (dist/bundle/cli/main.cjs).
  void import("./load-bundle.js").then(async (m) => (await m.loadProgram()).runProgram(process.argv));
}

async function runFast(cmd: FastCommand): Promise<void> {
  switch (cmd.name) {
    case "engine": {
      const o = cmd.opts;
      // Its start overlaps the engine's loading (the engine's first mount and `ip` need it).
      (await import("../host-spawn.js")).startHostSpawnHelper();
      const { runDaemon } = await (await import("./load-bundle.js")).loadDaemon();
      return runDaemon({ ...strings(o, ["root", "config", "networkName", "networkCidr"]), addr: list(o, "addr"), debug: o["debug"] === true });
    }
    case "query": {
      const c = await (await import("./load-bundle.js")).loadFastCommands();
      c.setProgress(progressOpts(cmd.global));
      c.setProgress(progressOpts(cmd.opts));
      process.exit(await c.queryCommand(cmd.operation, { var: list(cmd.opts, "var"), ...strings(cmd.opts, ["doc", "varJson", "vars"]) }));
      break;
    }
    case "session": {
      const c = await (await import("./load-bundle.js")).loadFastCommands();
      return c.sessionCommand({ ...strings(cmd.opts, ["workdir"]), label: list(cmd.opts, "label") });
    }
    case "run": {
      const c = await (await import("./load-bundle.js")).loadFastCommands();
      c.setProgress(progressOpts(cmd.global));
      c.setProgress(progressOpts(cmd.opts));
      c.setInteractive(cmd.opts["interactive"] === true);
      process.exit(await c.runCommand(cmd.command, strings(cmd.opts, ["workdir"])));
    }
  }
}

function strings<K extends string>(o: Values, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) if (typeof o[k] === "string") out[k] = o[k];
  return out;
}

function list(o: Values, key: string): string[] {
  const v = o[key];
  return Array.isArray(v) ? v : [];
}

function progressOpts(o: Values): { progress?: string; timestamps?: boolean } {
  return { ...strings(o, ["progress"]), ...(o["timestamps"] === true ? { timestamps: true } : {}) };
}
