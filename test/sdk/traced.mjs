// One SDK run under a span of the program's own (sdk-root), exported by the
// SDK's OpenTelemetry set-up to OTEL_EXPORTER_OTLP_*; tanto's spans must hang
// under it, in the trace `tanto run` started (TRACEPARENT).

import { connection, dag, getTracer } from "@dagger.io/dagger";
import * as otel from "@opentelemetry/api";
import { image } from "./common.mjs";

const nonce = process.env.TANTO_TEST_NONCE;
await connection(async () => {
  await getTracer("tanto-test").startActiveSpan("sdk-root", async (span) => {
    const out = await dag.container().from(image).withExec(["echo", nonce]).stdout();
    process.stdout.write(`trace ${span.spanContext().traceId} span ${span.spanContext().spanId}\n`);
    if (out.trim() !== nonce) throw new Error(`unexpected output ${out}`);
  });
});
void otel;
