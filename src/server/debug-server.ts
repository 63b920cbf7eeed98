/**
 * `debugaddr` (buildkitd's key): an HTTP listener for operators, apart from
 * the API. `GET /metrics` is the Prometheus text of src/telemetry/metrics.ts;
 * `GET /debug/health` (also `/healthz`) answers 200 with a small JSON body
 * once the engine is open and its database answers, 503 otherwise.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError, messageOf } from "../errors.js";
import { registry } from "../telemetry/metrics.js";
import type { Engine } from "./engine.js";

/** `host:port`, `[v6]:port` or `:port` (all interfaces, as Go's listeners). */
export function parseDebugAddr(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.replace(/^tcp:\/\//, ""));
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new InvalidArgumentError(`debugaddr must be HOST:PORT, not ${JSON.stringify(value)}`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export async function startDebugServer(engine: Engine, addr: string): Promise<{ server: http.Server; url: string }> {
  const { host, port } = parseDebugAddr(addr);
  registry.readGauge("tanto_services", "Services starting or running", () => engine.deps.services.count);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://debug").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405).end();
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      return void res.end(registry.text());
    }
    if (path === "/debug/health" || path === "/healthz") {
      let body: Record<string, unknown>;
      let status = 200;
      try {
        engine.healthCheck();
        body = { status: "ok", sessions: engine.sessions.count };
      } catch (err) {
        status = 503;
        body = { status: "unhealthy", error: messageOf(err) };
      }
      res.writeHead(status, { "content-type": "application/json" });
      return void res.end(JSON.stringify(body));
    }
    res.writeHead(404, { "content-type": "text/plain" }).end(`no such endpoint ${path}: try /metrics or /debug/health\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new InvalidArgumentError(`cannot listen on debugaddr ${addr}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return { server, url: `http://${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}` };
}
