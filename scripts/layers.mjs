#!/usr/bin/env node
// Checks tanto's layering: each folder of src/ is a layer and imports only
// layers of a lower tier (the order below, which README's layer table
// follows). Reads every non-test src/**/*.ts file's relative imports (static,
// `export … from`, and `import("…")` in code or types) and fails with the
// list of imports that break the order, and of any cycle between folders.
//
//   node scripts/layers.mjs            # run by `npm run lint`, after biome
//   node scripts/layers.mjs --graph    # also print the folder import graph
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Lowest first. A folder may import folders of lower tiers only; folders of
 * one tier never import each other. Files at the root of src/ (errors.ts,
 * version.ts) import nothing of tanto's and may be imported from anywhere.
 */
const TIERS = [
  // Spans and metrics: the model every layer reports to; imports nothing of tanto's.
  ["telemetry"],
  // Foundations: pure data, the wire protocol, and the one database.
  ["util", "oci", "fsutil", "mount", "http", "config", "metadata"],
  // Storage and machinery on one machine.
  ["content", "snapshots", "archive", "executor", "network", "dockerfile"],
  // Sources of content and the solver.
  ["registry", "gc", "hostsync", "sources", "solver"],
  ["images"],
  // Op implementations, on everything above.
  ["ops"],
  ["services"],
  // Dagger's objects.
  ["core"],
  ["api"],
  // The schema a session serves: parts (SDL + resolvers) and extensions.
  ["schema"],
  ["modules"],
  // Cache tools over the solver's records and Dagger's objects (explain).
  ["cache"],
  // The two ends of a session: they talk over HTTP only, never by import.
  ["server", "client"],
  ["cli"],
];

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(repo, "src");
const tierOf = new Map(TIERS.flatMap((folders, tier) => folders.map((f) => [f, tier])));

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [p] : [];
  });
}

/** `from "x"`, `import "x"` and `import("x")`, with the line each is on. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

function importsOf(file) {
  const text = readFileSync(file, "utf8");
  const found = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1];
    if (!spec.startsWith(".")) continue;
    const line = text.slice(0, m.index).split("\n").length;
    found.push({ spec, line });
  }
  return found;
}

/** The top folder of src/ a path is in, or undefined for a file at the root of src/. */
function folderOf(abs) {
  const rel = path.relative(src, abs).split(path.sep);
  return rel.length > 1 ? rel[0] : undefined;
}

const problems = [];
/** folder → folder → import sites */
const graph = new Map();

for (const file of sourceFiles(src)) {
  const from = folderOf(file);
  const rel = path.relative(repo, file);
  if (from === undefined) {
    for (const { spec, line } of importsOf(file)) problems.push(`${rel}:${line}: a file at the root of src/ imports nothing of tanto's (imports "${spec}")`);
    continue;
  }
  if (!tierOf.has(from)) {
    problems.push(`${rel}: folder src/${from}/ is not in the layer order: add it to TIERS in scripts/layers.mjs and to README's table`);
    continue;
  }
  for (const { spec, line } of importsOf(file)) {
    const target = path.resolve(path.dirname(file), spec);
    if (path.relative(src, target).startsWith("..")) {
      problems.push(`${rel}:${line}: imports "${spec}", outside src/`);
      continue;
    }
    const to = folderOf(target);
    if (to === undefined || to === from) continue;
    if (!graph.has(from)) graph.set(from, new Map());
    const sites = graph.get(from);
    if (!sites.has(to)) sites.set(to, []);
    sites.get(to).push(`${rel}:${line}`);
    if (!tierOf.has(to)) {
      problems.push(`${rel}:${line}: imports src/${to}/, which is not in the layer order`);
    } else if (tierOf.get(to) >= tierOf.get(from)) {
      const how = tierOf.get(to) === tierOf.get(from) ? "the same tier" : "a higher tier";
      problems.push(`${rel}:${line}: ${from} imports ${to} ("${spec}"), ${how}: ${allowed(from)}`);
    }
  }
}

function allowed(folder) {
  const below = TIERS.slice(0, tierOf.get(folder)).flat();
  return below.length === 0 ? `${folder} is a foundation and imports no other folder` : `${folder} may import only ${below.join(", ")}`;
}

// Cycles between folders, whatever the order says (Tarjan's strongly connected components).
const cycles = [];
{
  let index = 0;
  const stack = [];
  const state = new Map();
  const visit = (v) => {
    const s = { index, low: index, onStack: true };
    index++;
    state.set(v, s);
    stack.push(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!state.has(w)) {
        visit(w);
        s.low = Math.min(s.low, state.get(w).low);
      } else if (state.get(w).onStack) s.low = Math.min(s.low, state.get(w).index);
    }
    if (s.low === s.index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        state.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!state.has(v)) visit(v);
}
for (const c of cycles) {
  const edges = c.flatMap((a) => c.filter((b) => graph.get(a)?.has(b)).map((b) => `    ${a} → ${b} (${graph.get(a).get(b)[0]})`));
  problems.push(`import cycle between ${c.join(", ")}:\n${edges.join("\n")}`);
}

if (process.argv.includes("--graph")) {
  for (const folders of TIERS) {
    for (const f of folders) console.log(`${f} → ${[...(graph.get(f)?.keys() ?? [])].sort().join(", ") || "(nothing)"}`);
  }
}

if (problems.length > 0) {
  console.error(`Layering broken (${problems.length}); the order is in scripts/layers.mjs and README's layer table:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`layers: ${tierOf.size} folders in ${TIERS.length} tiers, no cycles, every import goes down`);
