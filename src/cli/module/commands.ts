/** The module commands main.ts registers (loaded on demand). */
export { callCommand, functionsCommand } from "./call-command.js";
export { developCommand, initCommand, installCommand } from "./manage-commands.js";
