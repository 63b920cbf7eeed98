/** The client commands: session, run and query. */
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import { connectEngine } from "../client/connect.js";
import { openClientSession } from "../client/session-server.js";

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
  process.stdout.write(JSON.stringify({ port: session.port, session_token: session.token }) + "\n");
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    void session.close().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
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
  const session = await openClientSession(engine, { labels: {}, progress: stderrLine });
  const [cmd, ...args] = command;
  const child = spawn(cmd!, args, {
    stdio: "inherit",
    env: { ...process.env, DAGGER_SESSION_PORT: String(session.port), DAGGER_SESSION_TOKEN: session.token },
  });
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
  return code;
}

export async function queryCommand(document: string | undefined, opts: { doc?: string }): Promise<number> {
  const query = document ?? (opts.doc ? await fs.readFile(opts.doc, "utf8") : await readStdin());
  const engine = await connectEngine(stderrLine);
  const session = await openClientSession(engine, { labels: {}, progress: stderrLine });
  try {
    const answer = await engine.query(session.sessionId, query);
    process.stdout.write(JSON.stringify(JSON.parse(answer), null, 2) + "\n");
    return (JSON.parse(answer) as { errors?: unknown[] }).errors?.length ? 1 : 0;
  } finally {
    await session.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function signalNumber(signal: NodeJS.Signals): number {
  return os.constants.signals[signal] ?? 0;
}
