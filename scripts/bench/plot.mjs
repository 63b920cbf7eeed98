/**
 * The bench's plot: each figure with a goal as a horizontal bar on a log scale, its goal as a
 * black tick (green bar: met; red: missed). A ratio goal (tanto ÷ baseline) is drawn as is; an
 * absolute goal (ms, MB) as the figure ÷ its goal, so that its tick sits at 1. Drawn as SVG and
 * rendered to PNG with @resvg/resvg-js and Debian's DejaVu Sans (fonts-dejavu-core).
 *
 * Also a script: `node scripts/bench/plot.mjs RESULTS.json OUT.png` draws a saved run again.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
const WIDTH = 1000;
const LEFT = 20;
const PLOT_RIGHT = 720;
const ROW = 40;
const TOP = 78;

const esc = (s) => String(s).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
const num = (x) => (x >= 100 ? Math.round(x).toString() : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));

/** What each bar shows: {label, value, goal, text}. */
function bars(figures) {
  return figures.map((f) => {
    const ratioGoal = f.goal.unit === "x";
    const value = ratioGoal ? f.ratio : f.value / f.goal.max;
    const text = ratioGoal ? `${num(f.ratio)}× (goal ≤${f.goal.max}×)` : `${num(f.value)} ${f.goal.unit} (goal ≤${f.goal.max} ${f.goal.unit})`;
    return { label: f.label.replaceAll("`", ""), value, goal: ratioGoal ? f.goal.max : 1, met: f.met, text: ratioGoal ? text : `${text}, ÷ goal` };
  });
}

/** The SVG document for `results` (the bench's JSON: its `figures`, `when`, `machine`). */
export function plotSvg(results) {
  const rows = bars(results.figures);
  const all = rows.flatMap((r) => [r.value, r.goal]).filter((x) => x > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all) * 0.8));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all) * 1.25));
  const x = (v) => LEFT + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (PLOT_RIGHT - LEFT);
  const height = TOP + rows.length * ROW + 40;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="26" font-size="17" font-weight="bold">tanto against its limits and peers: each figure against its goal</text>`,
    `<text x="${LEFT}" y="46" font-size="11" fill="#444">${esc(`bar: tanto ÷ baseline (absolute goals: figure ÷ goal); black tick: the goal; green met, red missed; log scale. ${results.when ?? ""}, ${results.machine?.cpus ?? "?"} CPUs, load ${results.machine?.loadavgStart?.[0]?.toFixed(1) ?? "?"}`)}</text>`,
  ];
  // Grid: 1, 2, 5 per decade, labelled at 1 and 5.
  const gridBottom = TOP + rows.length * ROW;
  for (let d = lo; d < hi * 1.01; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi * 1.01) break;
      out.push(`<line x1="${x(v)}" y1="${TOP - 8}" x2="${x(v)}" y2="${gridBottom}" stroke="${m === 1 ? "#bbb" : "#e4e4e4"}" stroke-width="1"/>`);
      if (m !== 2) out.push(`<text x="${x(v)}" y="${gridBottom + 16}" font-size="11" text-anchor="middle" fill="#444">${Number(v.toPrecision(2))}×</text>`);
    }
  }
  for (const [i, r] of rows.entries()) {
    const y = TOP + i * ROW;
    out.push(`<text x="${LEFT}" y="${y + 5}" font-size="12" fill="#222">${esc(r.label)}</text>`);
    out.push(`<rect x="${LEFT}" y="${y + 11}" width="${Math.max(1, x(r.value) - LEFT)}" height="13" fill="${r.met ? "#2e7d32" : "#c62828"}" opacity="0.85"/>`);
    out.push(`<line x1="${x(r.goal)}" y1="${y + 7}" x2="${x(r.goal)}" y2="${y + 28}" stroke="black" stroke-width="2.5"/>`);
    out.push(`<text x="${PLOT_RIGHT + 12}" y="${y + 22}" font-size="11.5" fill="${r.met ? "#1b5e20" : "#b71c1c"}">${esc(r.text)}</text>`);
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/**
 * Write the plot of `results` to `pngFile`. Without @resvg/resvg-js installed, the SVG is
 * written next to it instead; returns the file written.
 */
export function writePlot(results, pngFile) {
  const svg = plotSvg(results);
  fs.mkdirSync(path.dirname(pngFile), { recursive: true });
  let Resvg;
  try {
    ({ Resvg } = createRequire(import.meta.url)("@resvg/resvg-js"));
  } catch {
    const svgFile = pngFile.replace(/\.png$/, "") + ".svg";
    fs.writeFileSync(svgFile, svg);
    return { file: svgFile, note: "@resvg/resvg-js is not installed: the plot was written as SVG, not PNG" };
  }
  if (!fs.existsSync(FONT)) throw new Error(`the plot's font ${FONT} is missing (apt-get install fonts-dejavu-core)`);
  const png = new Resvg(svg, {
    fitTo: { mode: "width", value: 2 * WIDTH },
    font: { fontFiles: [FONT, BOLD], loadSystemFonts: false, defaultFontFamily: "DejaVu Sans" },
  })
    .render()
    .asPng();
  fs.writeFileSync(pngFile, png);
  return { file: pngFile };
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) throw new Error("usage: node scripts/bench/plot.mjs RESULTS.json OUT.png");
  const results = JSON.parse(fs.readFileSync(input, "utf8"));
  if (!Array.isArray(results.figures)) throw new Error(`${input} has no "figures" list: not a results file of scripts/bench.mjs`);
  const { file, note } = writePlot(results, output);
  process.stderr.write(`${note ? `${note}\n` : ""}wrote ${file}\n`);
}
