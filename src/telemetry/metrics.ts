/**
 * The engine's metrics, in Prometheus' text format (version 0.0.4): counters,
 * gauges and histograms with labels, in one process-wide registry — as
 * Prometheus client libraries keep a default registry — so that each layer
 * counts where the work happens without passing a handle down. Served on
 * `debugaddr` (src/server/debug-server.ts).
 */

type Labels = Readonly<Record<string, string>>;

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  lines(): string[];
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const all = Object.entries(labels);
  if (extra) all.push(extra);
  if (all.length === 0) return "";
  return `{${all.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

const key = (labels: Labels): string => JSON.stringify(Object.entries(labels).sort());

export class Counter implements Family {
  readonly type = "counter";
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const v = this.#values.get(k);
    if (v) v.value += by;
    else this.#values.set(k, { labels, value: by });
  }

  lines(): string[] {
    if (this.#values.size === 0) return [`${this.name} 0`];
    return [...this.#values.values()].map((v) => `${this.name}${labelText(v.labels)} ${v.value}`);
  }
}

export class Gauge implements Family {
  readonly type = "gauge";
  #value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read?: () => number,
  ) {}

  set(v: number): void {
    this.#value = v;
  }
  add(by: number): void {
    this.#value += by;
  }

  lines(): string[] {
    return [`${this.name} ${this.read ? this.read() : this.#value}`];
  }
}

export class Histogram implements Family {
  readonly type = "histogram";
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets = DURATION_BUCKETS,
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let s = this.#series.get(k);
    if (!s) this.#series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]!++;
    });
    s.sum += value;
    s.count++;
  }

  lines(): string[] {
    return [...this.#series.values()].flatMap((s) => [
      ...this.buckets.map((b, i) => `${this.name}_bucket${labelText(s.labels, ["le", String(b)])} ${s.counts[i]}`),
      `${this.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`,
      `${this.name}_sum${labelText(s.labels)} ${s.sum}`,
      `${this.name}_count${labelText(s.labels)} ${s.count}`,
    ]);
  }
}

export class MetricsRegistry {
  readonly #families: Family[] = [];

  register<F extends Family>(family: F): F {
    if (this.#families.some((f) => f.name === family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.#families.push(family);
    return family;
  }

  /** Replaces a gauge that reads its value when scraped (the last registration wins). */
  readGauge(name: string, help: string, read: () => number): void {
    const i = this.#families.findIndex((f) => f.name === name);
    if (i >= 0) this.#families.splice(i, 1);
    this.#families.push(new Gauge(name, help, read));
  }

  text(): string {
    return this.#families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines()].join("\n") + "\n").join("");
  }
}

export const registry = new MetricsRegistry();

/** The engine's instruments. */
export const metrics = {
  opsRun: registry.register(new Counter("tanto_ops_run_total", "Operations run (cache misses), by kind")),
  opsFailed: registry.register(new Counter("tanto_ops_failed_total", "Operations that failed, by kind")),
  cacheHits: registry.register(new Counter("tanto_cache_hits_total", "Operations answered from the cache")),
  cacheMisses: registry.register(new Counter("tanto_cache_misses_total", "Cacheable operations not found in the cache")),
  opDuration: registry.register(new Histogram("tanto_op_duration_seconds", "Time operations took to run, by kind")),
  bytesPulled: registry.register(new Counter("tanto_registry_pulled_bytes_total", "Blob bytes downloaded from registries")),
  bytesPushed: registry.register(new Counter("tanto_registry_pushed_bytes_total", "Blob bytes uploaded to registries")),
  gcRuns: registry.register(new Counter("tanto_gc_runs_total", "Garbage collections run")),
  gcFreed: registry.register(new Counter("tanto_gc_freed_bytes_total", "Bytes freed by garbage collection")),
  sessions: registry.register(new Gauge("tanto_sessions", "Open sessions")),
  sessionsOpened: registry.register(new Counter("tanto_sessions_opened_total", "Sessions opened")),
};
