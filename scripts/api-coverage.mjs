#!/usr/bin/env node
/**
 * How much of the core Dagger API tanto serves: every method of the official
 * TypeScript SDK's generated client (the GraphQL field it selects and the
 * arguments it can send) against tanto's introspected core schema.
 *
 * Needs `npm run build` first (it reads dist/schema). Prints covered/total per
 * core type and overall, then each field not served (or served without some
 * argument the SDK can send) with the reason from REASONS below.
 * `--json` prints the same as JSON. Exits 0; it measures, it does not judge.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));
const sdkDir = path.join(root, "node_modules/@dagger.io/dagger");
const genJs = readFileSync(path.join(sdkDir, "dist/src/api/client.gen.js"), "utf8");
const genDts = readFileSync(path.join(sdkDir, "dist/src/api/client.gen.d.ts"), "utf8");

/** SDK classes outside the core API (modules, LLM, Env, Cloud, Workspace: other issues' work), and the SDK's own interfaces. */
const OUT_OF_SCOPE = new Set([
  // modules and their type definitions
  "Binding",
  "Check",
  "CheckGroup",
  "CurrentModule",
  "EnumTypeDef",
  "EnumValueTypeDef",
  "FieldTypeDef",
  "Function_",
  "FunctionArg",
  "FunctionCall",
  "FunctionCallArgValue",
  "GeneratedCode",
  "Generator",
  "GeneratorGroup",
  "InputTypeDef",
  "InterfaceTypeDef",
  "ListTypeDef",
  "Module_",
  "ModuleConfigClient",
  "ModuleSource",
  "ObjectTypeDef",
  "SDKConfig",
  "ScalarTypeDef",
  "SourceMap",
  "TypeDef",
  "Up",
  "UpGroup",
  "ClientFilesyncMirror",
  "RemoteGitMirror",
  // LLM, Env, Cloud, Workspace
  "LLM",
  "LLMTokenUsage",
  "Env",
  "Cloud",
  "Workspace",
  // interfaces the generated client declares for its own use
  "_ExportableClient",
  "_NodeClient",
  "_SyncerClient",
]);

/** Fields of core types that belong to an out-of-scope area (by name). */
const OUT_OF_SCOPE_FIELDS = new Set([
  "Directory.asModule",
  "Directory.asModuleSource",
  "Directory.withCheck",
  "Container.asInteractive",
  "Query.currentModule",
  "Query.currentFunctionCall",
  "Query.currentTypeDefs",
  "Query.function",
  "Query.generatedCode",
  "Query.module",
  "Query.moduleSource",
  "Query.sourceMap",
  "Query.typeDef",
  "Query.currentEnv",
  "Query.env",
  "Query.llm",
  "Query.cloud",
  "Query.currentWorkspace",
  "Query.workspace",
  "Query.moduleConfigClient",
  "Query.checks",
  "Query.generators",
  "Query.ups",
]);

/** Why a core field is not served yet. Keys: "Type.field", or "Type.*" for the whole type. */
const TERMINAL_LEGACY = "Dagger's legacy terminal objects: terminals attach to the client's TTY through the session instead (Container.terminal)";
const HTTP_STATE =
  "Dagger's internal persistent HTTP state (revalidation of http()), reached only through Env bindings (out of scope); http() here keys downloads by content digest";
const REASONS = {
  "Terminal.*": TERMINAL_LEGACY,
  "Query.loadTerminalFromID": TERMINAL_LEGACY,
  "Container.experimentalWithGPU": "GPUs: this engine runs no GPU runtime (no device or driver to hand a container)",
  "Container.experimentalWithAllGPUs": "GPUs: this engine runs no GPU runtime (no device or driver to hand a container)",
  "HTTPState.*": HTTP_STATE,
  "Query.loadHTTPStateFromID": HTTP_STATE,
};

/** Why an argument the SDK can send is not taken yet. Keys: "Type.field.arg". */
const ARG_REASONS = {};

function reasonFor(type, field) {
  return REASONS[`${type}.${field}`] ?? REASONS[`${type}.*`] ?? "not implemented yet";
}

/** The SDK's methods: class → [{ method, field, args }]. */
function sdkMethods() {
  const classes = new Map();
  let current;
  let pending;
  for (const line of genJs.split("\n")) {
    const cls = /^export class (\w+) extends BaseClient/.exec(line);
    if (cls) {
      current = [];
      classes.set(cls[1], current);
      pending = undefined;
      continue;
    }
    if (!current) continue;
    const m = /^ {4}(\w+) = (?:async )?\(([^)]*)\) => \{/.exec(line);
    if (m) {
      pending = {
        method: m[1],
        params: m[2]
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      };
      continue;
    }
    const sel = /this\._ctx\.select\("(\w+)"/.exec(line);
    if (sel && pending) {
      current.push({ method: pending.method, field: sel[1], params: pending.params });
      pending = undefined;
    }
  }
  return classes;
}

/** Option names of `${Class}${Method}Opts` in the d.ts. */
function optsOf(cls, method) {
  const name = `${cls}${method[0].toUpperCase()}${method.slice(1)}Opts`;
  const start = genDts.indexOf(`export type ${name} = {`);
  if (start < 0) return [];
  const body = genDts.slice(start, genDts.indexOf("\n};", start));
  return [...body.matchAll(/^ {4}(\w+)\?:/gm)].map((m) => m[1]);
}

async function tantoSchema() {
  const { buildApiSchema } = await import(path.join(root, "dist/src/schema/build.js"));
  const { coreParts } = await import(path.join(root, "dist/src/schema/core-parts.js"));
  const { introspectionFromSchema } = require("graphql");
  const { schema } = buildApiSchema(coreParts);
  const types = new Map();
  for (const t of introspectionFromSchema(schema).__schema.types) {
    if (t.kind !== "OBJECT") continue;
    types.set(t.name, new Map(t.fields.map((f) => [f.name, new Set(f.args.map((a) => a.name))])));
  }
  return types;
}

const typeName = (cls) => (cls === "Client" ? "Query" : cls.replace(/_$/, ""));

const methods = sdkMethods();
const served = await tantoSchema();
const rows = [];
const missing = [];
const partial = [];
const excluded = [];
for (const [cls, list] of methods) {
  const type = typeName(cls);
  if (OUT_OF_SCOPE.has(cls)) {
    excluded.push(`${type} (${list.length})`);
    continue;
  }
  let covered = 0;
  let total = 0;
  for (const { method, field, params } of list) {
    if (OUT_OF_SCOPE_FIELDS.has(`${type}.${field}`)) continue;
    const load = /^load(\w+)FromID$/.exec(field);
    if (load && (OUT_OF_SCOPE.has(load[1]) || OUT_OF_SCOPE.has(`${load[1]}_`) || OUT_OF_SCOPE.has(`_${load[1]}Client`))) continue;
    total++;
    const fields = served.get(type);
    const args = fields?.get(field);
    if (!args) {
      missing.push({ type, field, reason: reasonFor(type, field) });
      continue;
    }
    covered++;
    const want = [...params.filter((p) => p !== "opts"), ...optsOf(cls, method)];
    const lacking = want.filter((a) => !args.has(a));
    if (lacking.length) partial.push({ type, field, lacking });
  }
  if (total) rows.push({ type, covered, total });
}

const covered = rows.reduce((n, r) => n + r.covered, 0);
const total = rows.reduce((n, r) => n + r.total, 0);
const pct = (a, b) => (b ? ((100 * a) / b).toFixed(1) : "100.0");
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ covered, total, types: rows, missing, partial, excluded }, null, 2));
} else {
  const sdkVersion = JSON.parse(readFileSync(path.join(sdkDir, "package.json"), "utf8")).version;
  console.log(`Core API coverage against @dagger.io/dagger ${sdkVersion} (fields the generated client can select)\n`);
  for (const r of rows.sort((a, b) => a.type.localeCompare(b.type))) {
    console.log(`  ${r.type.padEnd(20)} ${String(r.covered).padStart(4)}/${String(r.total).padEnd(4)} ${pct(r.covered, r.total).padStart(6)}%`);
  }
  console.log(`\n  ${"overall".padEnd(20)} ${String(covered).padStart(4)}/${String(total).padEnd(4)} ${pct(covered, total).padStart(6)}%\n`);
  console.log(`Not counted (out of scope: modules, LLM, Env, Cloud, Workspace; SDK-internal interfaces):\n  ${excluded.join(", ")}`);
  console.log(`  and their fields on core types: ${[...OUT_OF_SCOPE_FIELDS].join(", ")}\n`);
  console.log(`Fields not served (${missing.length}):`);
  for (const m of missing) console.log(`  ${`${m.type}.${m.field}`.padEnd(44)} ${m.reason}`);
  console.log(`\nFields served without some argument the SDK can send (${partial.length}):`);
  for (const p of partial) {
    const why = p.lacking.map(
      (a) => `${a}${ARG_REASONS[`${p.type}.${p.field}.${a}`] ? ` (${ARG_REASONS[`${p.type}.${p.field}.${a}`]})` : " (not implemented)"}`,
    );
    console.log(`  ${`${p.type}.${p.field}`.padEnd(44)} missing: ${why.join(", ")}`);
  }
}
