/**
 * `tanto cache explain <ID | FILE>`: which ops of a recipe would run instead
 * of hitting the cache, and which input differs from the closest cached
 * record. FILE is a GraphQL document whose result selects the `id` of the
 * object to explain (run in a session first, so host directories and secrets
 * are the client's own; nothing but IDs is evaluated); anything else is read
 * as an ID. `--json` prints the engine's answer as it is.
 */
import * as fs from "node:fs/promises";
import type { Explanation } from "../cache/explain.js";
import { connectEngine } from "../client/connect.js";
import { engineJson } from "../client/engine-json.js";
import { openClientSession } from "../client/session-server.js";
import { EngineError, InvalidArgumentError } from "../errors.js";
import { parseVariables, type QueryOptions } from "./query-command.js";

const stderrLine = (line: string): void => void process.stderr.write(line + "\n");

export async function explainCommand(target: string, opts: Pick<QueryOptions, "var" | "varJson" | "vars"> & { json: boolean }): Promise<void> {
  const document = await fs.readFile(target, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENAMETOOLONG") return undefined;
    throw err;
  });
  const engine = await connectEngine(stderrLine);
  try {
    const id = document === undefined ? target : await idFromQuery(engine, document, parseVariables(opts));
    const explanation = await engineJson<Explanation>(engine, "POST", "/v1/explain", JSON.stringify({ id }));
    process.stdout.write(opts.json ? JSON.stringify(explanation, null, 2) + "\n" : formatExplanation(explanation));
  } finally {
    engine.close();
  }
}

async function idFromQuery(engine: Awaited<ReturnType<typeof connectEngine>>, query: string, variables: Record<string, unknown>): Promise<string> {
  const session = await openClientSession(engine, { labels: {} });
  try {
    const answer = JSON.parse(await engine.query(session.sessionId, { query, ...(Object.keys(variables).length > 0 ? { variables } : {}) })) as {
      data?: unknown;
      errors?: Array<{ message?: string }>;
    };
    if (answer.errors?.length) throw new EngineError(`the query failed: ${answer.errors.map((e) => e.message).join("; ")}`);
    const id = findId(answer.data);
    if (id === undefined)
      throw new InvalidArgumentError("the query's result holds no id: select the `id` of the object to explain (e.g. `withExec(…) { id }`)");
    return id;
  } finally {
    await session.close();
  }
}

/** The first value of a field named `id`, depth first. */
function findId(data: unknown): string | undefined {
  if (Array.isArray(data)) {
    for (const x of data) {
      const id = findId(x);
      if (id !== undefined) return id;
    }
  } else if (data !== null && typeof data === "object") {
    for (const [k, v] of Object.entries(data)) {
      const id = k === "id" && typeof v === "string" ? v : findId(v);
      if (id !== undefined) return id;
    }
  }
  return undefined;
}

export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  for (const op of e.ops) {
    lines.push(`#${op.n} ${op.name}: would run`);
    if (!op.closest) {
      lines.push(`   no cached ${op.kind} op to compare with`);
      continue;
    }
    lines.push(`   closest cached record: ${op.closest.name} (${new Date(op.closest.created).toISOString()})`);
    if (op.changes.length === 0) lines.push("   it differs in nothing recorded (the record may have been made by another key format)");
    for (const c of op.changes) lines.push(`   - ${c.says}`);
  }
  lines.push(`${e.ops.length} op${e.ops.length === 1 ? "" : "s"} would run; ${e.cached} answered from the cache`);
  return lines.join("\n") + "\n";
}
