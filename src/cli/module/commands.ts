/** The module commands program.ts registers (loaded on demand). */
export { callCommand, functionsCommand } from "./call-command.js";
export { developCommand, initCommand, installCommand } from "./manage-commands.js";
