/**
 * Spans: the one model of what runs. Every API call, op (with its cache
 * hit), pull/push and service start is a span with an id, a parent, a name,
 * attributes and an outcome; a running exec's output is a log attached to
 * its span. The engine sends these events on a session's event stream; the
 * CLI's progress views and the OTLP exporters consume the same events.
 *
 *   start {span, parent, name}  →  log {span, data}*  →  done {span, cached} | error {span, message}
 *
 * A cache hit is a `done` with `cached: true` and no `start`. Span ids are
 * 16 hex digits, as OpenTelemetry's, so an exporter uses them as they are.
 */
import { randomHex } from "./random-hex.js";

export type AttributeValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttributeValue>>;

/** What a span stands for: an API call, an op, a pull or push, a service. */
export type SpanKind = "call" | "op" | "pull" | "push" | "service";

interface SpanRef {
  readonly span: string;
  readonly parent?: string;
  /** The trace, when the span starts one or joins the client's (call spans); else its parent's. */
  readonly trace?: string;
  /** The vertex digest of an op span. */
  readonly vertex?: string;
  readonly name: string;
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
}

export type SpanEvent =
  | (SpanRef & { type: "start"; time: number })
  | (SpanRef & { type: "done"; cached: boolean; durationMs: number; time?: number })
  | (SpanRef & { type: "error"; durationMs: number; message: string; outputTail?: string; time?: number })
  /** Output of the span's process: `span`, or the vertex whose op span is running. */
  | { type: "log"; span?: string; vertex?: string; stream: 1 | 2; data: string }
  /** A line for the user that belongs to no span. */
  | { type: "message"; text: string };

export type SpanSink = (event: SpanEvent) => void;

export function newSpanId(): string {
  return randomHex(8);
}

export function newTraceId(): string {
  return randomHex(16);
}

/** A W3C `traceparent`: version 00, trace id, parent span id, flags. */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

export function parseTraceParent(value: string | undefined): TraceParent | undefined {
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value?.trim().toLowerCase() ?? "");
  if (!m || m[1] === "ff" || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, sampled: (Number.parseInt(m[4]!, 16) & 1) === 1 };
}

export function formatTraceParent(p: TraceParent): string {
  return `00-${p.traceId}-${p.spanId}-${p.sampled ? "01" : "00"}`;
}

/**
 * A sink for an op's work: logs without a span get `span`, so an op that
 * knows only its vertex still lands in the right place.
 */
export function sinkForSpan(sink: SpanSink | undefined, span: string): SpanSink | undefined {
  if (!sink) return undefined;
  return (e) => sink(e.type === "log" && e.span === undefined ? { ...e, span } : e);
}

/** Runs `fn` as a child span of `parent`, reporting start and outcome to `sink`. */
export async function inSpan<T>(
  sink: SpanSink | undefined,
  parent: string | undefined,
  init: { name: string; kind: SpanKind; attributes?: Attributes },
  fn: (span: string) => Promise<T>,
  end?: (result: T) => Attributes | undefined,
): Promise<T> {
  const span = newSpanId();
  const base = { span, ...(parent ? { parent } : {}), name: init.name, kind: init.kind };
  const started = performance.now();
  sink?.({ type: "start", ...base, time: Date.now(), ...(init.attributes ? { attributes: init.attributes } : {}) });
  try {
    const result = await fn(span);
    const attributes = { ...init.attributes, ...end?.(result) };
    sink?.({ type: "done", ...base, cached: false, durationMs: performance.now() - started, time: Date.now(), attributes });
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    sink?.({ type: "error", ...base, durationMs: performance.now() - started, message, time: Date.now() });
    throw err;
  }
}
