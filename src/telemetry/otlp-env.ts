/**
 * Whether spans go out over OTLP, decided from the standard variables, and
 * the exporter loaded only then: the OpenTelemetry packages cost ~150 ms of
 * start-up, which an engine or a CLI call that exports nothing never pays.
 */
import type { OtlpExport } from "./otlp.js";

export function otlpConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env["OTEL_EXPORTER_OTLP_ENDPOINT"] || env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) && env["OTEL_SDK_DISABLED"] !== "true";
}

/** Undefined unless the OTLP variables are set. */
export async function loadOtlp(env: NodeJS.ProcessEnv, service: { name: string; version: string }): Promise<OtlpExport | undefined> {
  if (!otlpConfigured(env)) return undefined;
  const { otlpFromEnv } = await import("./otlp.js");
  return otlpFromEnv(env, service);
}
