/**
 * What entry.ts's fast path runs for `query`, `session` and `run`: one module
 * (bundled with what it loads into dist/bundle/cli/ by `npm run build`), so
 * that such a command costs Node.js a few files to load, not dozens.
 */
export { runCommand, sessionCommand } from "./commands.js";
export { setInteractive } from "./interactive-flag.js";
export { setProgress } from "./progress-flag.js";
export { queryCommand } from "./query-command.js";
