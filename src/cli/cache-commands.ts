/** `tanto engine du` and `tanto engine prune`: ask the running engine. */
import { connectEngine } from "../client/connect.js";
import { engineJson } from "../client/engine-json.js";
import { parseSize } from "../config/engine-config.js";
import { InvalidArgumentError } from "../errors.js";
import { type PruneResult, USAGE_KINDS, type UsageKind, type UsageReport } from "../gc/types.js";

const stderrLine = (line: string): void => void process.stderr.write(line + "\n");

export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export async function duCommand(opts: { json: boolean }): Promise<void> {
  const engine = await connectEngine(stderrLine);
  let report: UsageReport;
  try {
    report = await engineJson<UsageReport>(engine, "GET", "/v1/du");
  } finally {
    engine.close();
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return;
  }
  const labels: Record<UsageKind, string> = {
    images: "images",
    exec: "exec results",
    files: "file operations",
    host: "client directories",
    git: "git checkouts",
    downloads: "http downloads",
    exports: "image exports",
    other: "other",
    content: "layer blobs",
    unreferenced: "unreferenced blobs",
    volumes: "cache volumes",
    hostMirrors: "host mirrors",
    gitCaches: "git caches",
  };
  const row = (label: string, size: number, reclaimable: number): string =>
    `${label.padEnd(20)} ${formatBytes(size).padStart(10)} ${formatBytes(reclaimable).padStart(12)}\n`;
  let out = `${"kind".padEnd(20)} ${"size".padStart(10)} ${"reclaimable".padStart(12)}\n`;
  for (const kind of USAGE_KINDS) out += row(labels[kind], report.byKind[kind] ?? 0, report.reclaimableByKind?.[kind] ?? 0);
  out += row("total", report.total, report.reclaimable);
  process.stdout.write(out);
}

export async function pruneCommand(opts: { all: boolean; keepStorage?: string }): Promise<void> {
  let keepStorage: number | undefined;
  if (opts.keepStorage !== undefined) {
    keepStorage = parseSize(opts.keepStorage);
    if (keepStorage === undefined) throw new InvalidArgumentError(`invalid --keep-storage "${opts.keepStorage}": want a size like 10GB`);
  }
  if (!opts.all && keepStorage === undefined) throw new InvalidArgumentError("say what to prune: --all, or --keep-storage SIZE");
  const engine = await connectEngine(stderrLine);
  let result: PruneResult;
  try {
    result = await engineJson<PruneResult>(
      engine,
      "POST",
      "/v1/prune",
      JSON.stringify({ all: opts.all, ...(keepStorage !== undefined ? { keepStorage } : {}) }),
    );
  } finally {
    engine.close();
  }
  const removed = Object.entries(result.removedByKind ?? {})
    .map(([kind, n]) => `${n} ${kind}`)
    .join(", ");
  process.stdout.write(
    `freed ${formatBytes(result.freedBytes)} (${result.removedSnapshots} snapshots${removed ? `; by kind: ${removed}` : ""}); cache now ${formatBytes(result.usageAfter)}\n`,
  );
}
