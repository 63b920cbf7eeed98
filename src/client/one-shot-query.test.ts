import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { ONE_SHOT_RESULT, SESSION_HEADER, type SessionEvent } from "../http/session-protocol.js";
import { oneShotQuery, parseHead } from "./one-shot-query.js";

let dir = "";
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-one-shot-"));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Node's own HTTP server on a unix socket, answering with `handler`; what it was asked goes to `seen`. */
async function server(name: string, handler: http.RequestListener): Promise<{ socket: string; seen: string[]; close(): Promise<void> }> {
  const socket = path.join(dir, `${name}.sock`);
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url} HTTP/${req.httpVersion} ${req.headers["content-type"]} ${body}`);
      handler(req, res);
    });
  });
  await new Promise<void>((r) => srv.listen(socket, r));
  return { socket, seen, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

const ask = (socket: string, events: SessionEvent[] = []): Promise<string | undefined> =>
  oneShotQuery(net.connect({ path: socket }), `unix://${socket}`, { "content-type": "application/json" }, '{"request":{"query":"{ version }"}}', (id, e) => {
    assert.equal(id, "s1");
    events.push(e);
  });

test("parseHead: the status and headers once the head is whole, the body after it", () => {
  assert.equal(parseHead("HTTP/1.1 200 OK\r\nx-a: 1\r\n"), undefined);
  const text = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nX-Tanto-Session:  s1 \r\n\r\n{}\n";
  const parsed = parseHead(text);
  assert.equal(parsed?.head.status, 200);
  assert.equal(parsed?.head.headers.get("x-tanto-session"), "s1");
  assert.equal(parsed?.head.headers.get("content-type"), "application/x-ndjson");
  assert.equal(text.slice(parsed?.bodyAt), "{}\n");
  assert.equal(parseHead("HTTP/1.0 404 Not Found\r\n\r\n")?.head.status, 404);
  assert.throws(() => parseHead("SSH-2.0-OpenSSH\r\n\r\n"), /not an HTTP answer: "SSH-2.0-OpenSSH"/);
});

test("the events as they come, then the result; the request is HTTP/1.0 with its body", async () => {
  const s = await server("ok", (_req, res) => {
    res.writeHead(200, { "content-type": "application/x-ndjson", [SESSION_HEADER]: "s1" });
    res.write(`${JSON.stringify({ type: "start", span: "a", name: "version" })}\n{"type":"do`);
    setTimeout(() => res.end(`ne","span":"a"}\n\n${JSON.stringify({ type: ONE_SHOT_RESULT, result: { data: { version: "é" } } })}\n`), 20);
  });
  try {
    const events: SessionEvent[] = [];
    assert.equal(await ask(s.socket, events), '{"data":{"version":"é"}}');
    assert.deepEqual(
      events.map((e) => e.type),
      ["start", "done"],
    );
    assert.deepEqual(s.seen, ['POST /v1/query HTTP/1.0 application/json {"request":{"query":"{ version }"}}']);
  } finally {
    await s.close();
  }
});

test("no engine, or one without the endpoint: undefined, for the caller to open a session", async () => {
  assert.equal(await ask(path.join(dir, "nobody.sock")), undefined);
  const s = await server("old", (_req, res) => res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no such endpoint"}'));
  try {
    assert.equal(await ask(s.socket), undefined);
  } finally {
    await s.close();
  }
});

test("an answer without the session header, one cut short, and one that is not HTTP are errors", async () => {
  const noHeader = await server("no-header", (_req, res) => res.writeHead(200).end(`${JSON.stringify({ type: ONE_SHOT_RESULT, result: {} })}\n`));
  const cut = await server("cut", (_req, res) => {
    res.writeHead(200, { [SESSION_HEADER]: "s1" });
    res.write('{"type":"start","span":"a","name":"x"}\n');
    setTimeout(() => res.destroy(), 10);
  });
  const notHttp = path.join(dir, "not-http.sock");
  const raw = net.createServer((c) => c.end("SSH-2.0-OpenSSH\r\n\r\n"));
  await new Promise<void>((r) => raw.listen(notHttp, r));
  try {
    await assert.rejects(ask(noHeader.socket), /answered \/v1\/query without its x-tanto-session header/);
    await assert.rejects(ask(cut.socket), /cannot reach the engine at unix:\/\/.*cut\.sock: the connection closed before the answer/);
    await assert.rejects(ask(notHttp), /its answer is not what tanto expects: not an HTTP answer/);
  } finally {
    raw.close();
    await Promise.all([noHeader.close(), cut.close()]);
  }
});
