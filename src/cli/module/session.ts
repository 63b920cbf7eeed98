/**
 * A session for the module commands: the engine is found and a session opened
 * the way every client command does (src/client/), so host directories, files,
 * secrets and exports travel over the session; GraphQL documents go through it.
 * Failed requests become a GraphQLFailure carrying an exec's exit code, stdout
 * and stderr when the engine reported one (`extensions._type = "EXEC_ERROR"`).
 */

import { connectEngine } from "../../client/connect.js";
import { type ClientSession, openClientSession } from "../../client/session-server.js";
import { EngineError } from "../../errors.js";
import { interactiveLabels } from "../interactive-flag.js";
import { cliProgressView } from "../progress-flag.js";
import { buildQuery, pluck, type Step } from "./graphql.js";

export class GraphQLFailure extends EngineError {
  constructor(
    message: string,
    readonly exec?: { exitCode: number; stdout: string; stderr: string },
  ) {
    super(message, { code: exec ? "EXEC_ERROR" : "INTERNAL" });
  }
}

interface ErrorJson {
  message?: string;
  extensions?: { _type?: string; exitCode?: number; stdout?: string; stderr?: string };
}

export function failureOf(errors: ErrorJson[]): GraphQLFailure {
  const message = errors.map((e) => e.message ?? JSON.stringify(e)).join("\n");
  const exec = errors.find((e) => e.extensions?._type === "EXEC_ERROR" && typeof e.extensions.exitCode === "number")?.extensions;
  return new GraphQLFailure(message, exec ? { exitCode: exec.exitCode!, stdout: exec.stdout ?? "", stderr: exec.stderr ?? "" } : undefined);
}

export interface GraphQL {
  /** Sends a document; resolves to `data`, rejects with GraphQLFailure. */
  query<T = unknown>(document: string): Promise<T>;
  /** Sends the chain and returns its leaf value. */
  select(steps: readonly Step[]): Promise<unknown>;
}

export interface ModuleSession extends GraphQL {
  close(): Promise<void>;
}

const stderrLine = (line: string): void => void process.stderr.write(line.endsWith("\n") ? line : line + "\n");

export async function openModuleSession(): Promise<ModuleSession> {
  const engine = await connectEngine(stderrLine);
  let session: ClientSession;
  try {
    session = await openClientSession(engine, { labels: interactiveLabels(), progress: cliProgressView() });
  } catch (err) {
    engine.close();
    throw err;
  }
  const query = async <T>(document: string): Promise<T> => {
    const answer = JSON.parse(await engine.query(session.sessionId, { query: document })) as { data?: unknown; errors?: ErrorJson[] };
    if (answer.errors && answer.errors.length > 0) throw failureOf(answer.errors);
    return answer.data as T;
  };
  return {
    query,
    select: async (steps) => pluck(await query(buildQuery(steps)), steps),
    close: () => session.close(),
  };
}
