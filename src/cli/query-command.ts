/**
 * `tanto query [OPERATION]`, as `dagger query`: the document comes from
 * `--doc FILE` or stdin (or, tanto's shorthand, the argument itself when it
 * is a document rather than an operation name); variables from `--var
 * name=value` (repeatable, string values) and `--var-json`/`--vars JSON`.
 * Prints the result's `data` as JSON on stdout; errors go to stderr with a
 * non-zero exit.
 */
import { readFileSync } from "node:fs";
import { connectEngine, engineAtAddress } from "../client/connect.js";
import type { GraphQLRequestBody } from "../client/engine-client.js";
import { openEngineSession, queryInOwnSession } from "../client/engine-session.js";
import { InvalidArgumentError } from "../errors.js";
import type { CliTrace } from "./cli-trace.js";
import { startCliTrace } from "./cli-trace.js";
import { cliProgressView } from "./progress-flag.js";

export interface QueryOptions {
  doc?: string;
  var: string[];
  varJson?: string;
  vars?: string;
}

const stderrLine = (line: string): void => void process.stderr.write(line.endsWith("\n") ? line : line + "\n");

export async function queryCommand(arg: string | undefined, opts: QueryOptions): Promise<number> {
  const inline = arg !== undefined && /[{}]/.test(arg);
  const operationName = inline ? undefined : arg;
  const variables = parseVariables(opts);
  const query = inline ? arg : await readDocument(opts.doc);
  const request: GraphQLRequestBody = {
    query,
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
    ...(operationName !== undefined ? { operationName } : {}),
  };
  const trace = await startCliTrace(`tanto query${operationName ? ` ${operationName}` : ""}`);
  let failure: string | undefined;
  try {
    const answer = JSON.parse(await send(request, trace)) as { data?: unknown; errors?: Array<{ message?: string; path?: unknown[] }> };
    if (answer.errors?.length) {
      failure = answer.errors[0]?.message ?? "query failed";
      for (const e of answer.errors) stderrLine(`Error: ${e.message ?? JSON.stringify(e)}${e.path ? ` (at ${e.path.join(".")})` : ""}`);
      return 1;
    }
    process.stdout.write(JSON.stringify(answer.data ?? null, null, 4) + "\n");
    return 0;
  } finally {
    await trace.finish(failure);
  }
}

/** The request in a session for it alone: one round trip to an engine that has that; else a session opened first. */
async function send(request: GraphQLRequestBody, trace: CliTrace): Promise<string> {
  const opts = { labels: {}, progress: cliProgressView(), traceparent: trace.traceparent, ...(trace.recorder ? { otlp: trace.recorder } : {}) };
  const direct = engineAtAddress();
  if (direct) {
    try {
      const answer = await queryInOwnSession(direct, request, opts);
      if (answer !== undefined) return answer;
    } finally {
      direct.close();
    }
  }
  // An engine not answering yet (connectEngine says why, or starts one here), an older one, another runner host.
  const engine = await connectEngine(stderrLine);
  const session = await openEngineSession(engine, opts);
  try {
    return await engine.query(session.sessionId, request, undefined, trace.traceparent);
  } finally {
    await session.close();
  }
}

/** `--var-json`/`--vars` first, then each `--var name=value` on top. */
export function parseVariables(opts: Pick<QueryOptions, "var" | "varJson" | "vars">): Record<string, unknown> {
  if (opts.varJson !== undefined && opts.vars !== undefined) throw new InvalidArgumentError("give --var-json or --vars, not both");
  const json = opts.varJson ?? opts.vars;
  let out: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new InvalidArgumentError(`--var-json is not JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new InvalidArgumentError(`--var-json must be a JSON object, not ${json}`);
    out = { ...(parsed as Record<string, unknown>) };
  }
  for (const kv of opts.var) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`--var ${JSON.stringify(kv)}: want name=value`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

async function readDocument(doc: string | undefined): Promise<string> {
  // Read at once: the file system calls of fs/promises would start libuv's thread pool for this one file.
  if (doc !== undefined) return readFileSync(doc, "utf8");
  if (process.stdin.isTTY) throw new InvalidArgumentError("no query document: give --doc FILE or pipe one on stdin");
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
