/**
 * The end of a call, as Dagger's CLI handles it. What is selected last:
 * an object with `-o PATH` and an `export(path)` function ⇒ `export(path,
 * allowParentDirPath: true)`; an object with `sync` ⇒ `id: sync`; other
 * objects ⇒ `id`; anything else is the value itself. How it is printed:
 * objects as `<Type>@<digest>` (lists one `- ` line per item), `Saved to
 * "<path>".` on stderr after an export, scalars plain (list items one per
 * line) or as 4-space JSON with `-j`, `-o` on a scalar ⇒ the file too and
 * `Saved output to "<abs>".`; Void prints nothing.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { inflateRawSync } from "node:zlib";
import type { Step } from "./graphql.js";
import { type ModuleModel, providerOf, type TypeRef } from "./typedefs.js";

/** Core types' leaf functions, for when currentTypeDefs hides core types. */
const CORE_LEAVES: Record<string, { sync: boolean; exportArgs?: string[] }> = {
  Container: { sync: true, exportArgs: ["path"] },
  Directory: { sync: true, exportArgs: ["path"] },
  File: { sync: true, exportArgs: ["path", "allowParentDirPath"] },
};

export type LeafMode = "export" | "object" | "value";

export interface LeafPlan {
  steps: Step[];
  mode: LeafMode;
}

export function leafPlan(model: ModuleModel, returnType: TypeRef, outputPath: string | undefined, cwd: string): LeafPlan {
  const elem = returnType.kind === "LIST_KIND" && returnType.elem ? returnType.elem : returnType;
  const isObject = elem.kind === "OBJECT_KIND" || elem.kind === "INTERFACE_KIND";
  if (!isObject) return { steps: [], mode: "value" };
  const provider = providerOf(model, returnType);
  let hasSync = false;
  let exportArgs: string[] | undefined;
  if (provider) {
    for (const fn of provider.functions) {
      if (fn.name === "sync" && fn.args.length === 0) hasSync = true;
      if (fn.name === "export" && fn.args.some((a) => a.name === "path")) exportArgs = fn.args.map((a) => a.name);
    }
  } else if (elem.name !== undefined && CORE_LEAVES[elem.name]) {
    hasSync = CORE_LEAVES[elem.name]!.sync;
    exportArgs = CORE_LEAVES[elem.name]!.exportArgs;
  }
  if (outputPath !== undefined && exportArgs) {
    const args: Array<[string, string | boolean]> = [["path", path.resolve(cwd, outputPath)]];
    if (exportArgs.includes("allowParentDirPath")) args.push(["allowParentDirPath", true]);
    return { steps: [{ field: "export", args }], mode: "export" };
  }
  return { steps: [hasSync ? { field: "sync", alias: "id" } : { field: "id" }], mode: "object" };
}

/** `<Type>@<digest>` for an object ID: the type recorded in the ID, the digest of its recipe. */
export function describeId(id: string, fallbackType: string): string {
  if (id.startsWith("tanto2.")) {
    try {
      const json = inflateRawSync(Buffer.from(id.slice("tanto2.".length), "base64url"), { maxOutputLength: 64 << 20 });
      const t = (JSON.parse(json.toString("utf8")) as { t?: unknown }).t;
      const digest = "sha256:" + createHash("sha256").update(json).digest("hex");
      return `${typeof t === "string" && t !== "" ? t : fallbackType}@${digest}`;
    } catch {
      // not ours after all: fall through
    }
  }
  return `${fallbackType}@sha256:${createHash("sha256").update(id).digest("hex")}`;
}

export interface Rendered {
  stdout: string;
  stderr: string;
  /** Content for `-o` on a scalar result. */
  file?: { path: string; content: string };
}

function plain(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => plain(x) + "\n").join("");
  if (v !== null && typeof v === "object") return Object.values(v).map(plain).join("");
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "<nil>";
  return String(v);
}

function ids(v: unknown, type: TypeRef): string {
  if (Array.isArray(v)) return v.map((x) => "- " + ids(x, type.elem ?? type)).join("");
  const id = typeof v === "string" ? v : v !== null && typeof v === "object" ? (v as { id?: unknown }).id : undefined;
  if (typeof id !== "string") throw new Error(`no ID found in object: ${JSON.stringify(v)}`);
  return describeId(id, type.name ?? "Object") + "\n";
}

export function render(
  returnType: TypeRef,
  mode: LeafMode,
  value: unknown,
  opts: { json: boolean; outputPath?: string | undefined; cwd: string; stdoutIsTTY: boolean },
): Rendered {
  if (returnType.kind === "VOID_KIND") return { stdout: "", stderr: "" };
  if (mode === "export") {
    const paths = Array.isArray(value) ? value : [value];
    return { stdout: "", stderr: paths.map((p) => `Saved to ${JSON.stringify(String(p))}.\n`).join("") };
  }
  if (mode === "object") return { stdout: ids(value, returnType), stderr: "" };
  const text = opts.json ? JSON.stringify(value ?? null, null, 4) + "\n" : plain(value);
  const out: Rendered = { stdout: text, stderr: "" };
  if (opts.stdoutIsTTY && !text.endsWith("\n")) out.stdout += "\n";
  if (opts.outputPath !== undefined) {
    const abs = path.resolve(opts.cwd, opts.outputPath);
    out.file = { path: abs, content: text };
    out.stderr = `Saved output to ${JSON.stringify(abs)}.\n`;
  }
  return out;
}
