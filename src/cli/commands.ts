/** The client commands: session and run (query is in query-command.ts). */
import * as os from "node:os";
import { connectEngine } from "../client/connect.js";
import { openClientSession } from "../client/session-server.js";
import { startCliTrace } from "./cli-trace.js";
import { interactiveLabels } from "./interactive-flag.js";
import { cliProgressView } from "./progress-flag.js";

const stderrLine = (line: string): void => void process.stderr.write(line.endsWith("\n") ? line : line + "\n");

function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const i = l.indexOf(":");
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? "" : l.slice(i + 1);
  }
  return out;
}

/**
 * The SDK protocol: one JSON line on stdout, then serve until SIGTERM or
 * until stdin closes (the SDK's process went away); exit 0 either way.
 */
export async function sessionCommand(opts: { workdir?: string; label: string[] }): Promise<void> {
  if (opts.workdir) process.chdir(opts.workdir);
  const engine = await connectEngine(stderrLine);
  const session = await openClientSession(engine, { labels: parseLabels(opts.label), progress: stderrLine });
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    void session.close().finally(() => process.exit(0));
  };
  // Before the line: an SDK may send SIGTERM the moment it has read it.
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdout.write(JSON.stringify({ port: session.port, session_token: session.token }) + "\n");
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  void session.ended.then(() => {
    if (stopping) return;
    stderrLine("tanto: the engine ended the session");
    process.exit(1);
  });
}

export async function runCommand(command: string[], opts: { workdir?: string }): Promise<number> {
  if (opts.workdir) process.chdir(opts.workdir);
  const engine = await connectEngine(stderrLine);
  const trace = await startCliTrace(`tanto run ${command.join(" ")}`);
  const view = cliProgressView();
  const session = await openClientSession(engine, {
    labels: interactiveLabels(),
    progress: view,
    traceparent: trace.traceparent,
    ...(trace.recorder ? { otlp: trace.recorder } : {}),
  });
  const [cmd, ...args] = command;
  // Loaded here, not with the module: `tanto query` shares its bundle and spawns nothing.
  const { spawn } = await import("node:child_process");
  // A view that redraws in place gets the program's terminal output, so a redraw never erases it.
  const through = (s: NodeJS.WriteStream): "inherit" | "pipe" => (view.passThrough && s.isTTY ? "pipe" : "inherit");
  const child = spawn(cmd!, args, {
    stdio: ["inherit", through(process.stdout), through(process.stderr)],
    env: { ...process.env, DAGGER_SESSION_PORT: String(session.port), DAGGER_SESSION_TOKEN: session.token, TRACEPARENT: trace.traceparent },
  });
  child.stdout?.on("data", (d: Buffer) => view.passThrough?.(process.stdout, d));
  child.stderr?.on("data", (d: Buffer) => view.passThrough?.(process.stderr, d));
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on("SIGTERM", forward);
  process.on("SIGINT", forward);
  const code = await new Promise<number>((resolve) => {
    child.on("error", (err) => {
      stderrLine(`tanto: cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on("close", (c, signal) => resolve(c ?? 128 + (signal ? signalNumber(signal) : 0)));
  });
  await session.close();
  await trace.finish(code === 0 ? undefined : `${cmd} exited with ${code}`);
  return code;
}

function signalNumber(signal: NodeJS.Signals): number {
  return os.constants.signals[signal] ?? 0;
}
