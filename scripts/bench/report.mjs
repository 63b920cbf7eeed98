/**
 * The bench's goals and its report: every group turns its results into rows, each row is
 * {label, tanto, baseline, ratio?, goal?: {max, unit}, value?, plotLabel?} (plotLabel: the label
 * of a "— " sub-row in the plot, where no row above gives its context), and this file renders them as the
 * markdown table printed on stdout, and as the list of figures against goals kept in the JSON
 * and drawn by plot.mjs. A goal's unit is "x" (a ratio: tanto's median / its baseline's, from
 * the same run, interleaved) or an absolute unit ("ms", "MB"), checked against `value`.
 */
import * as os from "node:os";
import { fmtSummary } from "./util.mjs";

/** Issue 17's goals, and the earlier ones for the rows it does not name. */
export const GOALS = {
  execRatio: 1.3, // tanto / runc for one uncached exec (issue 17)
  networkRatio: 1.3, // tanto with a pooled namespace / tanto with loopback only
  dockerBridgeRatio: 0.3, // tanto (pooled namespace) / docker run on its default bridge
  syncRatio: 0.1, // unchanged directory from a new session / first sync (i.e. ≥10× faster)
  syncVsCopyRatio: 1.2, // first host().directory() / cp -a of the same tree (issue 17)
  publishRatio: 1.0, // tanto publish / buildah push (issue 17)
  pullRatio: 0.9, // from + exec of a 200 MB single-layer image, cache pruned / podman pull (issue 17)
  cliRatio: 1.3, // whole `tanto query` process for a cached 20-step chain / node -e '' (issue 17)
  parallelRatio: 1.1, // 100 × sleep 1 at max-parallelism 4 / the ideal 25 s (issue 17)
  parallelUnlimitedMs: 3000, // the same at max-parallelism 100 (issue 17)
  cachedChainMs: 50,
  tracingRatio: 1.05, // uncached 20-step chain with spans exported over OTLP / without
  remoteCacheRatio: 0.5, // 20-step chain on an empty engine from a remote cache / from scratch
  coldStartMs: 250, // engine start to the first answered query (issue 17)
  idleRssMb: 100, // after the benchmarks + 2 s idle (issue 17)
};

/** A row comparing two timed series (summaries): ratio = mine / base by medians. */
export function ratioRow(label, mine, base, goal, digits = 2) {
  return {
    label,
    tanto: fmtSummary(mine),
    baseline: fmtSummary(base),
    ratio: mine.median / base.median,
    digits,
    ...(goal ? { goal: { max: goal, unit: "x" } } : {}),
  };
}

/** A row of one figure against an absolute goal (or none); `base` is an optional summary shown beside it. */
export function valueRow(label, shown, value, goal, unit, { baseline, ratio } = {}) {
  return {
    label,
    tanto: shown,
    baseline: baseline ?? "—",
    ...(ratio !== undefined ? { ratio, digits: 2 } : {}),
    ...(goal !== undefined ? { goal: { max: goal, unit }, value } : {}),
  };
}

/** Met, missed, or undefined for a row without goal. */
export function met(row) {
  if (!row.goal) return undefined;
  return row.goal.unit === "x" ? row.ratio <= row.goal.max : row.value <= row.goal.max;
}

const goalText = (g) => (g.unit === "x" ? `≤${g.max}x` : `≤${g.max} ${g.unit}`);

/** The figures with a goal, as the JSON keeps them and the plot draws them. */
export function figures(rows) {
  return rows
    .filter((r) => r.goal)
    .map((r) => ({
      label: r.plotLabel ?? r.label,
      ...(r.ratio !== undefined ? { ratio: Number(r.ratio.toFixed(4)) } : {}),
      ...(r.value !== undefined ? { value: r.value } : {}),
      goal: r.goal,
      met: met(r),
    }));
}

/** The markdown table (the README's), then the footnotes: runs, load, notes. */
export function renderTable(rows, r) {
  const cell = (s) => String(s).replaceAll("|", "\\|");
  const out = ["| benchmark | tanto | baseline | ratio | goal |", "| --- | --- | --- | --- | --- |"];
  for (const row of rows) {
    const ratio = row.ratio !== undefined ? `${row.ratio.toFixed(row.digits ?? 2)}x` : "—";
    const ok = met(row);
    const goal = row.goal ? `${goalText(row.goal)} ${ok ? "ok" : "**missed**"}` : "—";
    out.push(`| ${[row.label, row.tanto, row.baseline, ratio, goal].map(cell).join(" | ")} |`);
  }
  const runs = Object.entries(r.runs)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  out.push("", `Times are median / p90; ratio = tanto median / baseline median. Runs: ${runs}.`);
  const load = (l) => l.map((x) => x.toFixed(2)).join(" ");
  out.push(`Load average ${load(r.machine.loadavgStart)} at start, ${load(r.loadavgEnd)} at end, on ${r.machine.cpus} CPUs.`);
  for (const note of r.notes) out.push(`- note: ${note}`);
  return out.join("\n") + "\n";
}

export function machineInfo() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memMb: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    // Other work on the machine shows up in every figure; the load tells how much to trust them.
    loadavgStart: os.loadavg(),
  };
}
