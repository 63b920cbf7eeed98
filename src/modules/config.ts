/**
 * dagger.json (core/modules/config.go): parsed leniently (legacy forms
 * accepted), written the way Dagger writes it: keys in Dagger's order,
 * empty values omitted, two-space indentation and a final newline.
 */
import { InvalidArgumentError } from "../errors.js";

export interface DependencyConfig {
  name: string;
  source: string;
  pin?: string;
}

export interface SdkConfig {
  source: string;
  config?: Record<string, unknown>;
  debug?: boolean;
  experimental?: Record<string, boolean>;
}

export interface ModuleConfig {
  $schema?: string;
  name: string;
  engineVersion: string;
  sdk?: SdkConfig;
  blueprint?: unknown;
  toolchains?: unknown[];
  include?: string[];
  dependencies?: DependencyConfig[];
  /** The code directory relative to dagger.json's; absent means ".". */
  source?: string;
  codegen?: { automaticGitignore?: boolean };
  clients?: Array<{ generator: string; directory: string }>;
  disableDefaultFunctionCaching?: boolean;
}

const KEY_ORDER: Array<keyof ModuleConfig> = [
  "$schema",
  "name",
  "engineVersion",
  "sdk",
  "blueprint",
  "toolchains",
  "include",
  "dependencies",
  "source",
  "codegen",
  "clients",
  "disableDefaultFunctionCaching",
];

export function parseModuleConfig(text: string, where = "dagger.json"): ModuleConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new InvalidArgumentError(`${where} must hold a JSON object`);
  const r = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = r[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new InvalidArgumentError(`${where}: "${k}" must be a string, not ${JSON.stringify(v)}`);
    return v;
  };
  const cfg: ModuleConfig = { name: str("name") ?? "", engineVersion: str("engineVersion") ?? "" };
  const schema = str("$schema");
  if (schema) cfg.$schema = schema;
  const sdk = r["sdk"];
  if (typeof sdk === "string") cfg.sdk = { source: sdk };
  else if (sdk && typeof sdk === "object" && !Array.isArray(sdk)) {
    const s = sdk as Record<string, unknown>;
    if (typeof s["source"] !== "string") throw new InvalidArgumentError(`${where}: "sdk.source" must be a string`);
    cfg.sdk = { source: s["source"] };
    if (s["config"] && typeof s["config"] === "object") cfg.sdk.config = s["config"] as Record<string, unknown>;
    if (typeof s["debug"] === "boolean") cfg.sdk.debug = s["debug"];
    if (s["experimental"] && typeof s["experimental"] === "object") cfg.sdk.experimental = s["experimental"] as Record<string, boolean>;
  }
  if (r["blueprint"] !== undefined) cfg.blueprint = r["blueprint"];
  if (Array.isArray(r["toolchains"])) cfg.toolchains = r["toolchains"];
  const include = stringList(r["include"], "include", where);
  const exclude = stringList(r["exclude"], "exclude", where);
  const all = [...include, ...exclude.map((p) => `!${p}`)];
  if (all.length > 0) cfg.include = all;
  if (Array.isArray(r["dependencies"])) {
    cfg.dependencies = r["dependencies"].map((d, i) => {
      if (typeof d === "string") return { name: "", source: d };
      const o = (d ?? {}) as Record<string, unknown>;
      if (typeof o["source"] !== "string") throw new InvalidArgumentError(`${where}: dependencies[${i}].source must be a string`);
      return {
        name: typeof o["name"] === "string" ? o["name"] : "",
        source: o["source"],
        ...(typeof o["pin"] === "string" && o["pin"] ? { pin: o["pin"] } : {}),
      };
    });
  }
  const source = str("source");
  if (source !== undefined && source !== "" && source !== ".") cfg.source = source;
  if (r["codegen"] && typeof r["codegen"] === "object") cfg.codegen = r["codegen"] as { automaticGitignore?: boolean };
  if (Array.isArray(r["clients"])) cfg.clients = r["clients"] as ModuleConfig["clients"] & unknown[];
  if (typeof r["disableDefaultFunctionCaching"] === "boolean") cfg.disableDefaultFunctionCaching = r["disableDefaultFunctionCaching"];
  if (cfg.source?.split("/").includes("..")) throw new InvalidArgumentError(`${where}: "source" ${JSON.stringify(cfg.source)} may not contain ".."`);
  return cfg;
}

function stringList(v: unknown, key: string, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new InvalidArgumentError(`${where}: "${key}" must be a list of strings`);
  return v as string[];
}

/** dagger.json's text as Dagger writes it. */
export function formatModuleConfig(cfg: ModuleConfig): string {
  const out: Record<string, unknown> = {};
  for (const k of KEY_ORDER) {
    const v = cfg[k];
    if (v === undefined || v === "" || v === false || (Array.isArray(v) && v.length === 0)) continue;
    if (k === "source" && v === ".") continue;
    if (k === "sdk") {
      const s = v as SdkConfig;
      out[k] = {
        source: s.source,
        ...(s.config && Object.keys(s.config).length > 0 ? { config: s.config } : {}),
        ...(s.debug ? { debug: true } : {}),
        ...(s.experimental && Object.keys(s.experimental).length > 0 ? { experimental: s.experimental } : {}),
      };
      continue;
    }
    if (k === "dependencies") {
      out[k] = (v as DependencyConfig[]).map((d) => ({ name: d.name, source: d.source, ...(d.pin ? { pin: d.pin } : {}) }));
      continue;
    }
    out[k] = v;
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}
