/**
 * OTLP export of spans, with the OpenTelemetry packages: when the standard
 * variables are set (`OTEL_EXPORTER_OTLP_ENDPOINT`, `…_TRACES_ENDPOINT`,
 * `…_PROTOCOL`: `http/protobuf`, the default, or `http/json`), span events
 * become OTel spans — with tanto's own span ids, in the trace the client runs
 * in — and go out through a BatchSpanProcessor and the OTLP trace exporter.
 * A running exec's output becomes events of its span (`stdout`/`stderr`) and
 * OTel log records in the span's context, through the OTLP logs exporter.
 *
 *   const otlp = otlpFromEnv(process.env, "tanto-engine");
 *   const rec = otlp?.recorder(traceId);   // one per session
 *   rec?.record(event);                    // every span event of the session
 *   await otlp?.shutdown();                // flushes
 */
import { type Attributes, type HrTime, trace as otelTrace, ROOT_CONTEXT, type SpanContext, SpanKind, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import { type Logger, SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter as OTLPLogsJsonExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as OTLPLogsProtoExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPTraceExporter as OTLPHttpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { otlpConfigured } from "./otlp-env.js";
import type { SpanEvent } from "./types.js";

/** Output events kept per span: enough to read a failure, bounded for a chatty build. */
const MAX_LOG_EVENTS = 200;
/**
 * How long finished spans and log records wait to go out together (OTel's default is 5 s). Each
 * export is a protobuf encoding and an HTTP request here, and an ingestion at the collector: at
 * 200 ms, an uncached chain of execs sent about one of each per two execs (~0.8 ms of the engine's
 * CPU per exec, plus the collector's, on the same machine in the bench). A full batch (512) goes
 * at once whatever the delay, and shutdown flushes.
 */
const EXPORT_DELAY_MS = 1000;

export class OtlpExport {
  readonly #processor: BatchSpanProcessor;
  readonly #resource: Resource;
  readonly #logs: LoggerProvider | undefined;
  readonly #logger: Logger | undefined;

  constructor(exporter: SpanExporter, service: { name: string; version: string }, logExporter?: LogRecordExporter) {
    this.#processor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: EXPORT_DELAY_MS });
    this.#resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: service.name, [ATTR_SERVICE_VERSION]: service.version });
    if (logExporter) {
      this.#logs = new LoggerProvider({
        resource: this.#resource,
        processors: [new BatchLogRecordProcessor({ exporter: logExporter, scheduledDelayMillis: EXPORT_DELAY_MS })],
      });
      this.#logger = this.#logs.getLogger("tanto");
    }
  }

  /** Records the spans of one session (or CLI run); spans without a trace of their own go to `traceId`. */
  recorder(traceId: string): SpanRecorder {
    return new SpanRecorder(traceId, (span) => this.#processor.onEnd(span), this.#resource, this.#logger);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([this.#processor.forceFlush(), this.#logs?.forceFlush()]);
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.#processor.shutdown(), this.#logs?.shutdown()]);
  }
}

/** Undefined unless the OTLP variables are set. */
export function otlpFromEnv(env: NodeJS.ProcessEnv, service: { name: string; version: string }): OtlpExport | undefined {
  if (!otlpConfigured(env)) return undefined;
  const protocol = env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? env["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf or http/json`);
  }
  // The URLs as the specification builds them; headers and timeouts the exporters read themselves.
  const base = env["OTEL_EXPORTER_OTLP_ENDPOINT"]?.replace(/\/+$/, "");
  const tracesUrl = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] || `${base}/v1/traces`;
  const exporter = protocol === "http/json" ? new OTLPHttpJsonExporter({ url: tracesUrl }) : new OTLPProtoExporter({ url: tracesUrl });
  // Logs go to the logs endpoint, or next to the traces under a common one; OTEL_LOGS_EXPORTER=none turns them off.
  const logsUrl = env["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] || (base ? `${base}/v1/logs` : undefined);
  const logs =
    env["OTEL_LOGS_EXPORTER"] === "none" || !logsUrl
      ? undefined
      : protocol === "http/json"
        ? new OTLPLogsJsonExporter({ url: logsUrl })
        : new OTLPLogsProtoExporter({ url: logsUrl });
  return new OtlpExport(exporter, service, logs);
}

interface Open {
  readonly start: Extract<SpanEvent, { type: "start" }>;
  readonly trace: string;
  readonly events: { time: HrTime; name: string; attributes: Attributes }[];
  dropped: number;
}

export class SpanRecorder {
  readonly #open = new Map<string, Open>();
  /** Trace of each span seen, so children land in their parent's trace. */
  readonly #traces = new Map<string, string>();

  constructor(
    private readonly traceId: string,
    private readonly emit: (span: ReadableSpan) => void,
    private readonly resource: Resource,
    private readonly logger?: Logger,
  ) {}

  record(e: SpanEvent): void {
    if (e.type === "message") return;
    if (e.type === "log") {
      const open = e.span ? this.#open.get(e.span) : undefined;
      if (!open) return;
      const stream = e.stream === 2 ? "stderr" : "stdout";
      if (open.events.length >= MAX_LOG_EVENTS) open.dropped++;
      else open.events.push({ time: hr(Date.now()), name: stream, attributes: { "log.message": e.data } });
      this.logger?.emit({
        body: e.data,
        severityNumber: SeverityNumber.INFO,
        severityText: "INFO",
        attributes: { "log.iostream": stream, "tanto.span": open.start.name },
        timestamp: Date.now(),
        context: otelTrace.setSpanContext(ROOT_CONTEXT, { traceId: open.trace, spanId: open.start.span, traceFlags: TraceFlags.SAMPLED }),
      });
      return;
    }
    const trace = e.trace ?? (e.parent ? this.#traces.get(e.parent) : undefined) ?? this.traceId;
    this.#traces.set(e.span, trace);
    if (e.type === "start") {
      this.#open.set(e.span, { start: e, trace, events: [], dropped: 0 });
      return;
    }
    const open = this.#open.get(e.span);
    this.#open.delete(e.span);
    const end = e.time ?? Date.now();
    const start = open?.start.time ?? end - e.durationMs;
    const attributes: Attributes = { ...open?.start.attributes, ...e.attributes, "tanto.kind": e.kind ?? "op" };
    if (e.vertex) attributes["tanto.vertex"] = e.vertex;
    if (e.type === "done") attributes["tanto.cached"] = e.cached;
    const ctx: SpanContext = { traceId: trace, spanId: e.span, traceFlags: TraceFlags.SAMPLED };
    const parent = e.parent ?? open?.start.parent;
    const span: ReadableSpan = {
      name: e.name,
      kind: e.kind === "call" ? SpanKind.SERVER : SpanKind.INTERNAL,
      spanContext: () => ctx,
      ...(parent ? { parentSpanContext: { traceId: trace, spanId: parent, traceFlags: TraceFlags.SAMPLED, isRemote: true } } : {}),
      startTime: hr(start),
      endTime: hr(end),
      duration: hr(end - start),
      status: e.type === "error" ? { code: SpanStatusCode.ERROR, message: e.message } : { code: SpanStatusCode.OK },
      attributes,
      links: [],
      events: open?.events ?? [],
      ended: true,
      resource: this.resource,
      instrumentationScope: { name: "tanto" },
      droppedAttributesCount: 0,
      droppedEventsCount: open?.dropped ?? 0,
      droppedLinksCount: 0,
    };
    this.emit(span);
  }
}

function hr(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}
