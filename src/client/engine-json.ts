/**
 * A JSON answer from one of the engine's own endpoints, or an error carrying
 * what the engine said: any non-2xx answer (a full disk, a bad argument) is
 * reported with the server's message instead of being read as a result.
 */
import { EngineError, InvalidArgumentError, UnavailableError } from "../errors.js";
import type { EngineClient } from "./engine-client.js";

export async function engineJson<T>(engine: EngineClient, method: string, path: string, body?: string): Promise<T> {
  return answerJson<T>(await engine.request(method, path, body), method, path);
}

/** The JSON of an answer already read, or the error it carries. */
export function answerJson<T>(res: { status: number; body: string }, method: string, path: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  if (res.status >= 200 && res.status < 300 && parsed !== undefined) return parsed as T;
  const said = typeof parsed === "object" && parsed !== null && "error" in parsed ? String(parsed.error) : res.body.trim().slice(0, 500);
  const message = `engine answered ${res.status} to ${method} ${path}: ${said || "(no message)"}`;
  if (res.status >= 400 && res.status < 500) throw new InvalidArgumentError(message);
  if (res.status === 503) throw new UnavailableError(message);
  throw new EngineError(message);
}
