/**
 * What the runtime reads of a module's pyproject.toml: its third-party
 * dependencies (everything but dagger-io, which the runtime base image
 * provides), its entry points (the SDK looks for group "dagger.mod",
 * name "main_object") and the project name and version.
 */
import { parse } from "smol-toml";
import { InvalidArgumentError } from "../../../errors.js";

export interface PyProject {
  name?: string;
  version?: string;
  /** PEP 508 requirement strings, dagger-io left out. */
  dependencies: string[];
  /** [project.entry-points.<group>] tables. */
  entryPoints: Record<string, Record<string, string>>;
}

/** A distribution name as PEP 503 compares them. */
export function normalizeDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The distribution name a requirement string starts with (`requests[socks]>=2` → requests). */
export function requirementName(req: string): string {
  return /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req)?.[1] ?? req.trim();
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export function parsePyproject(text: string | undefined): PyProject {
  if (text === undefined) return { dependencies: [], entryPoints: {} };
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(`pyproject.toml: ${(err as Error).message}`);
  }
  const project = isRecord(doc["project"]) ? doc["project"] : {};
  const deps = Array.isArray(project["dependencies"]) ? project["dependencies"] : [];
  for (const d of deps) {
    if (typeof d !== "string") throw new InvalidArgumentError(`pyproject.toml: project.dependencies: not a string: ${JSON.stringify(d)}`);
  }
  const entryPoints: Record<string, Record<string, string>> = {};
  const eps = isRecord(project["entry-points"]) ? project["entry-points"] : {};
  for (const [group, table] of Object.entries(eps)) {
    if (!isRecord(table)) continue;
    entryPoints[group] = Object.fromEntries(Object.entries(table).filter((e): e is [string, string] => typeof e[1] === "string"));
  }
  return {
    ...(typeof project["name"] === "string" ? { name: project["name"] } : {}),
    ...(typeof project["version"] === "string" ? { version: project["version"] } : {}),
    dependencies: (deps as string[]).filter((d) => normalizeDistName(requirementName(d)) !== "dagger-io"),
    entryPoints,
  };
}

/** entry_points.txt of an installed distribution. */
export function entryPointsTxt(entryPoints: Record<string, Record<string, string>>): string {
  return Object.entries(entryPoints)
    .map(
      ([group, table]) =>
        `[${group}]\n${Object.entries(table)
          .map(([k, v]) => `${k} = ${v}\n`)
          .join("")}`,
    )
    .join("\n");
}
