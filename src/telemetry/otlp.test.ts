import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { otlpFromEnv } from "./otlp.js";

test("spans and an exec's output go out over OTLP/HTTP JSON: spans with tanto's ids and parents, logs in their span's context", async () => {
  const got = new Map<string, unknown[]>();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      got.set(req.url ?? "", [...(got.get(req.url ?? "") ?? []), JSON.parse(body)]);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const otlp = otlpFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, { name: "tanto-test", version: "1" });
    assert.ok(otlp);
    const trace = "0af7651916cd43dd8448eb211c80319c";
    const rec = otlp.recorder(trace);
    rec.record({ type: "start", span: "00f067aa0ba902b7", parent: "b7ad6b7169203331", trace, name: "call", kind: "call", time: Date.now() });
    rec.record({ type: "start", span: "1111111111111111", parent: "00f067aa0ba902b7", name: "exec echo hi", kind: "op", time: Date.now() });
    rec.record({ type: "log", span: "1111111111111111", stream: 1, data: "hi\n" });
    rec.record({
      type: "error",
      span: "1111111111111111",
      parent: "00f067aa0ba902b7",
      name: "exec echo hi",
      kind: "op",
      durationMs: 3,
      message: "exit code: 1",
    });
    rec.record({ type: "done", span: "2222222222222222", parent: "00f067aa0ba902b7", name: "from x", kind: "op", cached: true, durationMs: 0 });
    rec.record({ type: "done", span: "00f067aa0ba902b7", parent: "b7ad6b7169203331", trace, name: "call", kind: "call", cached: false, durationMs: 9 });
    await otlp.shutdown();

    type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; status: { code: number }; events?: unknown[] };
    const spans: Span[] = (got.get("/v1/traces") ?? []).flatMap((b) =>
      (b as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Span[] }> }> }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    const byName = new Map(spans.map((s) => [s.name, s]));
    assert.equal(spans.length, 3);
    for (const s of spans) assert.equal(s.traceId, trace);
    assert.equal(byName.get("call")?.parentSpanId, "b7ad6b7169203331");
    assert.equal(byName.get("exec echo hi")?.parentSpanId, "00f067aa0ba902b7");
    assert.equal(byName.get("exec echo hi")?.status.code, 2);
    assert.equal(byName.get("exec echo hi")?.events?.length, 1);
    assert.equal(byName.get("from x")?.spanId, "2222222222222222");

    type Log = { traceId: string; spanId: string; body: { stringValue: string } };
    const logs: Log[] = (got.get("/v1/logs") ?? []).flatMap((b) =>
      (b as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Log[] }> }> }).resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)),
    );
    assert.equal(logs.length, 1);
    assert.deepEqual([logs[0]!.traceId, logs[0]!.spanId, logs[0]!.body.stringValue], [trace, "1111111111111111", "hi\n"]);
  } finally {
    server.close();
  }
});

test("no OTLP variables, no export; an unsupported protocol is an error naming it", () => {
  assert.equal(otlpFromEnv({}, { name: "x", version: "1" }), undefined);
  assert.throws(
    () => otlpFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, { name: "x", version: "1" }),
    /OTEL_EXPORTER_OTLP_PROTOCOL=grpc/,
  );
});
