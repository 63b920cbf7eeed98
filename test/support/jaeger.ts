/**
 * A real Jaeger (v2, the all-in-one) on free 127.0.0.1 ports, with in-memory
 * storage: an OTLP/HTTP receiver and the query API. The binary is built from
 * its Go module on first use into ${TANTO_CACHE_DIR:-~/.cache/tanto}/jaeger/
 * (5–20 minutes on 2 cores, once): Jaeger's go.mod has replace directives, so
 * `go install …@version` refuses it; the module comes through the Go proxy
 * (`go mod download`) and is built in a copy.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";

const JAEGER_VERSION = "v1.76.0";
const JAEGER_DIR = path.join(process.env["TANTO_CACHE_DIR"] ?? path.join(os.homedir(), ".cache", "tanto"), "jaeger");
export const JAEGER_BIN = process.env["TANTO_JAEGER_BIN"] ?? path.join(JAEGER_DIR, "jaeger");

/** Builds the cached binary unless it is there, of this version. */
async function ensureJaeger(): Promise<void> {
  if (process.env["TANTO_JAEGER_BIN"]) return;
  const version = await fs.readFile(path.join(JAEGER_DIR, "version"), "utf8").catch(() => "");
  const present = await fs.access(JAEGER_BIN).then(
    () => true,
    () => false,
  );
  if (version.trim() === JAEGER_VERSION && present) return;
  const run = promisify(execFile);
  const env = { ...process.env, GOFLAGS: "-mod=mod", PATH: `${process.env["PATH"]}:/usr/local/go/bin` };
  const { stdout } = await run("go", ["mod", "download", "-json", `github.com/jaegertracing/jaeger@${JAEGER_VERSION}`], { env, maxBuffer: 1 << 24 });
  const src = path.join(JAEGER_DIR, "src");
  await fs.rm(src, { recursive: true, force: true });
  await fs.mkdir(JAEGER_DIR, { recursive: true });
  await fs.cp((JSON.parse(stdout) as { Dir: string }).Dir, src, { recursive: true });
  await run("chmod", ["-R", "u+w", src]);
  await run("go", ["build", "-o", JAEGER_BIN, "./cmd/jaeger"], { cwd: src, env, timeout: 60 * 60_000, maxBuffer: 1 << 24 });
  await fs.writeFile(path.join(JAEGER_DIR, "version"), JAEGER_VERSION);
  await fs.rm(src, { recursive: true, force: true });
}

export interface Jaeger {
  /** OTLP/HTTP base URL (for OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly otlp: string;
  /** Query API base URL (`/api/traces`, `/api/services`). */
  readonly query: string;
  logs(): string;
  stop(): Promise<void>;
}

export async function startJaeger(): Promise<Jaeger> {
  try {
    await ensureJaeger();
  } catch (err) {
    throw new Error(`cannot build Jaeger ${JAEGER_VERSION} into ${JAEGER_DIR} from its Go module: ${(err as Error).message}`);
  }
  const [otlpPort, queryPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-jaeger-"));
  const config = path.join(dir, "config.yaml");
  await fs.writeFile(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:${queryPort}
    grpc:
      endpoint: 127.0.0.1:${grpcPort}
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlpPort}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`,
  );
  let output = "";
  const child: ChildProcess = spawn(JAEGER_BIN, ["--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const query = `http://127.0.0.1:${queryPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jaeger exited ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${query}/api/services`).then(
      (r) => r.ok,
      () => false,
    );
    const otlpUp = await new Promise<boolean>((resolve) => {
      const s = net.connect(otlpPort, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok && otlpUp) break;
    if (Date.now() > deadline) throw new Error(`jaeger did not answer on ${query}:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    otlp: `http://127.0.0.1:${otlpPort}`,
    query,
    logs: () => output,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
