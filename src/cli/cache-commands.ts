/** `tanto engine du` and `tanto engine prune`: ask the running engine. */
import { connectEngine } from "../client/connect.js";
import { engineJson } from "../client/engine-json.js";
import { parseSize } from "../config/engine-config.js";
import { InvalidArgumentError } from "../errors.js";
import type { PruneResult, UsageReport } from "../gc/collector.js";

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
  const labels: Record<keyof UsageReport["byKind"], string> = {
    images: "images",
    exec: "exec results",
    files: "file operations",
    host: "client directories",
    other: "other",
    volumes: "cache volumes",
    content: "content blobs",
  };
  for (const [kind, label] of Object.entries(labels)) {
    process.stdout.write(`${label.padEnd(20)} ${formatBytes(report.byKind[kind as keyof UsageReport["byKind"]]).padStart(10)}\n`);
  }
  process.stdout.write(
    `${"total".padEnd(20)} ${formatBytes(report.total).padStart(10)}\n${"reclaimable".padEnd(20)} ${formatBytes(report.reclaimable).padStart(10)}\n`,
  );
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
  process.stdout.write(`freed ${formatBytes(result.freedBytes)} (${result.removedSnapshots} snapshots); cache now ${formatBytes(result.usageAfter)}\n`);
}
