/**
 * What entry.ts's fast path runs for `query`, `session` and `run`: one module
 * (bundled with what it loads into dist/bundle/cli/ by `npm run build`), so
 * that such a command costs Node.js a few files to load, not dozens. `session`
 * and `run` load their module when called: `tanto query` then loads neither
 * the SDKs' HTTP endpoint nor node:crypto for it.
 */
import type { runCommand as run, sessionCommand as session } from "./commands.js";

export { setInteractive } from "./interactive-flag.js";
export { setProgress } from "./progress-flag.js";
export { queryCommand } from "./query-command.js";

export async function runCommand(...args: Parameters<typeof run>): ReturnType<typeof run> {
  return (await import("./commands.js")).runCommand(...args);
}

export async function sessionCommand(...args: Parameters<typeof session>): ReturnType<typeof session> {
  return (await import("./commands.js")).sessionCommand(...args);
}
