/**
 * `debugaddr`: after a pipeline (a pull, ops run and cached, a failed exec)
 * and a prune, the Prometheus text parses line by line and its counters say
 * what happened; the health endpoint answers.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format 0.0.4; throws on any line that is not HELP, TYPE or a sample. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      if (m[1] === "TYPE") {
        assert.match(m[3]!, /^(counter|gauge|histogram|summary|untyped)$/);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+|\+Inf|NaN)$/.exec(line);
    assert.ok(m, `not a Prometheus line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe("metrics and health on debugaddr", () => {
  let engine: TestEngine;
  let base: string;
  let image: string;

  before(async () => {
    const registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    engine = await startEngine({ registry, configText: `debugaddr = "127.0.0.1:${port}"\n[registry."${registry}"]\nhttp = true\n` });
  });
  after(async () => {
    await engine.destroy();
  });

  test("Prometheus text after a pipeline and a prune; /debug/health", async () => {
    const health = await fetch(`${base}/debug/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, "ok");

    const r = await run([CLI, "run", "--progress=plain", "node", path.join(REPO, "test", "sdk", "progress.mjs")], {
      env: { ...engine.env, TANTO_TEST_IMAGE: image, TANTO_TEST_NONCE: String(Date.now()) },
    });
    assert.equal(r.code, 3, r.stderr);
    const prune = await engine.client.request("POST", "/v1/prune", JSON.stringify({ all: true }));
    assert.equal(prune.status, 200);

    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheus(await res.text());
    const value = (name: string, labels: Record<string, string> = {}): number => {
      const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      assert.ok(s, `no sample ${name} ${JSON.stringify(labels)}`);
      return s.value;
    };
    // progress.mjs: exec echo (run, then cached), the slow exec, the failing exec.
    assert.equal(value("tanto_ops_run_total", { kind: "exec" }), 3);
    assert.equal(value("tanto_ops_failed_total", { kind: "exec" }), 1);
    assert.ok(value("tanto_cache_hits_total") >= 1);
    assert.ok(value("tanto_cache_misses_total") >= 4);
    assert.equal(types.get("tanto_op_duration_seconds"), "histogram");
    assert.equal(value("tanto_op_duration_seconds_count", { kind: "exec" }), 3);
    // The slow step sleeps 4 s: the sum says so, and it is past the 2.5 s bucket.
    assert.ok(value("tanto_op_duration_seconds_sum", { kind: "exec" }) > 4);
    assert.ok(value("tanto_op_duration_seconds_bucket", { kind: "exec", le: "2.5" }) <= 2);
    assert.equal(value("tanto_op_duration_seconds_bucket", { kind: "exec", le: "+Inf" }), 3);
    assert.ok(value("tanto_registry_pulled_bytes_total") > 100_000, "busybox's layer was pulled");
    assert.equal(value("tanto_registry_pushed_bytes_total"), 0);
    assert.ok(value("tanto_gc_runs_total") >= 1);
    assert.ok(value("tanto_gc_freed_bytes_total") > 0);
    assert.ok(value("tanto_sessions_opened_total") >= 1);
    assert.equal(value("tanto_sessions"), 0);
    assert.equal(value("tanto_services"), 0);

    assert.equal((await fetch(`${base}/nope`)).status, 404);
  });
});
