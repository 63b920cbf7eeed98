/**
 * A leveled logger writing one line per event to stderr.
 *
 * stderr may go away under the engine: a test runner or supervisor that was
 * killed leaves the engine writing into a pipe nobody reads (EPIPE). Such a
 * write error must not become an uncaught exception: the engine's handler of
 * those logs it, which fails again, and that loop starves the event loop so
 * that even SIGTERM is never handled. Once stderr failed, lines are dropped.
 */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(opts: { debug: boolean; write?: (line: string) => void }): Logger {
  const min = ORDER[opts.debug ? "debug" : "info"];
  const write = opts.write ?? writeStderr;
  const log = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const extra = fields
      ? " " +
        Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === "string" ? JSON.stringify(v) : String(v)}`)
          .join(" ")
      : "";
    write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${extra}\n`);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

let stderrBroken = false;
let watchingStderr = false;

function writeStderr(line: string): void {
  if (!watchingStderr) {
    watchingStderr = true;
    process.stderr.on("error", () => {
      stderrBroken = true;
    });
  }
  if (stderrBroken || process.stderr.destroyed) return;
  process.stderr.write(line);
}
