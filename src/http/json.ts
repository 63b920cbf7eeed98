/** JSON request and response helpers shared by the engine and the CLI's session server. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidArgumentError, messageOf } from "../errors.js";

/** Request bodies larger than this are refused. */
const MAX_BODY = 8 << 20;

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new InvalidArgumentError(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`request body is not JSON: ${messageOf(err)}`);
  }
}
