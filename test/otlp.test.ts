/**
 * OTLP export into a real Jaeger: one trace per SDK run — `tanto run`'s span,
 * the SDK's own root span under it, tanto's API call span under that, and the
 * op under the call — read back through Jaeger's query API; over
 * http/protobuf and http/json.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { type Jaeger, startJaeger } from "./support/jaeger.js";

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  processID: string;
  tags: Array<{ key: string; value: unknown }>;
  logs: Array<{ fields: Array<{ key: string; value: unknown }> }>;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

describe("OTLP export to Jaeger", () => {
  let engine: TestEngine;
  let jaeger: Jaeger;
  let image: string;

  before(async () => {
    jaeger = await startJaeger();
    const registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    engine = await startEngine({ registry });
  });
  after(async () => {
    await engine?.destroy();
    await jaeger?.stop();
  });

  /** Traces holding `operation`, once they also hold the CLI's root span (Jaeger stores batches as they come). */
  async function tracesWith(operation: string, root = /^tanto (run|query)/): Promise<JaegerTrace[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${jaeger.query}/api/traces?service=tanto-cli&limit=100&lookback=1h`);
      const body = (await res.json()) as { data: JaegerTrace[] | null };
      const found = (body.data ?? []).filter((t) => t.spans.some((s) => s.operationName === operation));
      if (found.length > 0 && found.every((t) => t.spans.some((s) => root.test(s.operationName)))) return found;
      if (Date.now() > deadline) throw new Error(`no trace with ${operation} in Jaeger:\n${jaeger.logs().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  test("tanto query: its own span is the root, the call and the op under it", async () => {
    const nonce = `otlp-query-${Date.now()}`;
    const doc = `{ container { from(address: "${image}") { withExec(args: ["echo", "${nonce}"]) { stdout } } } }`;
    const r = await run([CLI, "query", "--progress=plain"], { env: { ...engine.env, OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlp }, input: doc });
    assert.equal(r.code, 0, r.stderr);
    const traces = await tracesWith(`exec echo ${nonce}`);
    assert.equal(traces.length, 1);
    const trace = traces[0]!;
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const parentOf = (s: JaegerSpan): JaegerSpan | undefined => byId.get(s.references.find((x) => x.refType === "CHILD_OF")?.spanID ?? "");
    const op = trace.spans.find((s) => s.operationName === `exec echo ${nonce}`)!;
    const call = parentOf(op)!;
    assert.match(call.operationName, /^container\.from/);
    const root = parentOf(call)!;
    assert.equal(root.operationName, "tanto query");
    assert.equal(parentOf(root), undefined);
  });

  for (const protocol of ["http/protobuf", "http/json"]) {
    test(`one trace per SDK run, the SDK's root span parenting tanto's spans (${protocol})`, async () => {
      const nonce = `otlp-${protocol.replace("/", "-")}-${Date.now()}`;
      const env = {
        ...engine.env,
        TANTO_TEST_IMAGE: image,
        TANTO_TEST_NONCE: nonce,
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlp,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      };
      const r = await run([CLI, "run", "--progress=plain", "node", path.join(REPO, "test", "sdk", "traced.mjs")], { env });
      assert.equal(r.code, 0, r.stderr);
      const [, sdkTrace, sdkSpan] = /trace (\w+) span (\w+)/.exec(r.stdout) ?? [];
      assert.ok(sdkTrace && sdkSpan, r.stdout);

      const traces = await tracesWith(`exec echo ${nonce}`);
      assert.equal(traces.length, 1, "one trace for the run");
      const trace = traces[0]!;
      assert.equal(trace.traceID, sdkTrace);
      const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
      const parentOf = (s: JaegerSpan): JaegerSpan | undefined => {
        const ref = s.references.find((x) => x.refType === "CHILD_OF");
        return ref ? byId.get(ref.spanID) : undefined;
      };
      const service = (s: JaegerSpan): string => trace.processes[s.processID]!.serviceName;

      const op = trace.spans.find((s) => s.operationName === `exec echo ${nonce}`)!;
      const call = parentOf(op);
      assert.ok(call, "the op has a parent in the trace");
      assert.match(
        call.operationName,
        new RegExp(`^container\\.from\\(address: ".*busybox:latest"\\)\\.withExec\\(args: \\["echo", "${nonce}"\\]\\)\\.stdout$`),
      );
      const root = parentOf(call);
      assert.ok(root, "the call has a parent in the trace");
      assert.equal(root.spanID, sdkSpan);
      assert.equal(root.operationName, "sdk-root");
      assert.equal(service(root), "dagger-typescript-sdk");
      const cli = parentOf(root);
      assert.ok(cli);
      assert.match(cli.operationName, /^tanto run node .*traced\.mjs$/);
      assert.equal(service(cli), "tanto-cli");
      assert.equal(parentOf(cli), undefined);
      assert.equal(service(op), "tanto-cli");
      // The op's attributes and its output as span events.
      assert.ok(op.tags.some((t) => t.key === "tanto.op" && t.value === "exec"));
      assert.ok(op.tags.some((t) => t.key === "tanto.cached" && t.value === false));
      assert.ok(op.logs.some((l) => l.fields.some((f) => f.key === "log.message" && String(f.value).includes(nonce))));
    });
  }
});
