/**
 * `--interactive` (`-i`) on `run` and `call`: when a command in a container
 * fails, the engine opens a terminal in the state it left (ops/exec-debug.ts),
 * on this client's TTY. The session carries the wish as a label.
 */
import { INTERACTIVE_LABEL } from "../http/session-protocol.js";

let interactive = false;

export function setInteractive(on: boolean | undefined): void {
  if (on) interactive = true;
}

/** Takes `-i` and `--interactive` out of a command's own arguments (those after `--` are the command's). */
export function takeInteractiveFlag(args: string[]): string[] {
  const end = args.indexOf("--");
  const head = end < 0 ? args : args.slice(0, end);
  const rest = head.filter((a) => a !== "-i" && a !== "--interactive");
  if (rest.length !== head.length) interactive = true;
  return end < 0 ? rest : [...rest, ...args.slice(end)];
}

/** The session labels the flag adds. */
export function interactiveLabels(): Record<string, string> {
  return interactive ? { [INTERACTIVE_LABEL]: "1" } : {};
}
