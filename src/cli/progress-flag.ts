/**
 * `--progress=auto|tty|plain|dots` and `--timestamps`, on `run`, `query` and
 * `call` (and before any command): which view the session's spans get on
 * stderr. `TANTO_PROGRESS` sets the default.
 */
import { type ProgressMode, type ProgressView, parseProgressMode, progressView } from "../client/progress.js";

let mode: ProgressMode | undefined;
let timestamps = false;

export function setProgress(opts: { progress?: string; timestamps?: boolean }): void {
  if (opts.progress !== undefined) mode = parseProgressMode(opts.progress);
  if (opts.timestamps) timestamps = true;
}

/** Takes `--progress X`, `--progress=X` and `--timestamps` out of a command's own arguments. */
export function takeProgressFlags(args: string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (a === "--progress") setProgress({ progress: args[++i] ?? "" });
    else if (a.startsWith("--progress=")) setProgress({ progress: a.slice("--progress=".length) });
    else if (a === "--timestamps") setProgress({ timestamps: true });
    else rest.push(a);
  }
  return rest;
}

export function cliProgressView(): ProgressView {
  const chosen = mode ?? parseProgressMode(process.env["TANTO_PROGRESS"] || undefined);
  return progressView(chosen, process.stderr, { timestamps });
}
