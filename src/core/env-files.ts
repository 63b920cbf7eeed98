/**
 * Env files (`NAME=value` lines, as `docker --env-file` and dotenv read them)
 * and JSON paths: parsing, lookups with quote removal and `$VAR` expansion.
 */
import { InvalidArgumentError } from "../errors.js";
import { EnvFile, JSONValue } from "./extra-values.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Parse env-file text; a line that is not blank, a comment or NAME=value is an error naming it. */
export function parseEnvFile(text: string, expand: boolean, what = "env file"): EnvFile {
  const vars: [string, string][] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.replace(/^export\s+/, "");
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq).trim();
    if (eq < 0 || !NAME.test(name)) throw new InvalidArgumentError(`${what}: line ${i + 1} is not NAME=value: ${JSON.stringify(lines[i])}`);
    let value = body.slice(eq + 1).trim();
    // A quoted value may span lines up to its closing quote.
    const q = value[0];
    if ((q === '"' || q === "'") && !closes(value, q)) {
      while (i + 1 < lines.length && !closes(value, q)) value += "\n" + lines[++i];
      if (!closes(value, q)) throw new InvalidArgumentError(`${what}: unterminated ${q} quote in the value of ${name}`);
    }
    vars.push([name, value]);
  }
  return new EnvFile(vars, expand);
}

function closes(value: string, q: string): boolean {
  if (value.length < 2) return false;
  for (let i = 1; i < value.length; i++) {
    if (q === '"' && value[i] === "\\") i++;
    else if (value[i] === q) return true;
  }
  return false;
}

/** A value as the program sees it: quotes removed (with escapes in "…"), inline comments of unquoted values dropped. */
function unquote(raw: string): { text: string; literal: boolean } {
  const q = raw[0];
  if (q === "'") return { text: raw.slice(1, raw.lastIndexOf("'")), literal: true };
  if (q === '"') {
    const inner = raw.slice(1, raw.lastIndexOf('"'));
    return { text: inner.replace(/\\(["\\$n])/g, (_m, c: string) => (c === "n" ? "\n" : c === "$" ? "\\$" : c)), literal: false };
  }
  return { text: raw.replace(/\s+#.*$/, ""), literal: false };
}

function expandRefs(text: string, lookup: (name: string) => string): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, b: string | undefined, p: string | undefined) =>
    m === "\\$" ? "$" : lookup((b ?? p)!),
  );
}

/** Every variable in order, values cooked (or raw); with `expand`, a reference sees the variables before it. */
export function envVariables(env: EnvFile, raw: boolean): [string, string][] {
  if (raw) return env.vars.map(([n, v]) => [n, v]);
  const seen = new Map<string, string>();
  const out: [string, string][] = [];
  for (const [name, value] of env.vars) {
    const { text, literal } = unquote(value);
    const cooked = env.expand && !literal ? expandRefs(text, (n) => seen.get(n) ?? "") : text.replace(/\\\$/g, "$");
    seen.set(name, cooked);
    out.push([name, cooked]);
  }
  return out;
}

export function envGet(env: EnvFile, name: string, raw: boolean): string {
  const all = envVariables(env, raw);
  for (let i = all.length - 1; i >= 0; i--) if (all[i]![0] === name) return all[i]![1];
  return "";
}

export function envNamespace(env: EnvFile, prefix: string): EnvFile {
  return new EnvFile(
    env.vars.filter(([n]) => n.startsWith(prefix) && n.length > prefix.length).map(([n, v]) => [n.slice(prefix.length), v] as const),
    env.expand,
  );
}

export function envWith(env: EnvFile, name: string, value: string): EnvFile {
  if (!NAME.test(name)) throw new InvalidArgumentError(`withVariable: invalid variable name ${JSON.stringify(name)}`);
  const quoted = /[\s#"'$\\]/.test(value) || value === "" ? `'${value.replace(/'/g, "")}'` : value;
  // A value with a single quote cannot be written single-quoted: double-quote it with escapes.
  const written = value.includes("'") ? `"${value.replace(/(["\\$])/g, "\\$1").replace(/\n/g, "\\n")}"` : quoted;
  return new EnvFile([...env.vars, [name, written]], env.expand);
}

export function envWithout(env: EnvFile, name: string): EnvFile {
  return new EnvFile(
    env.vars.filter(([n]) => n !== name),
    env.expand,
  );
}

export function envFileText(env: EnvFile): string {
  return env.vars.map(([n, v]) => `${n}=${v}\n`).join("");
}

/** The value at `path` (object keys; array indexes as decimal strings); an error names the first step that is missing. */
export function jsonField(v: JSONValue, steps: readonly string[]): JSONValue {
  let cur: unknown = v.value;
  for (const [i, step] of steps.entries()) {
    const here = steps.slice(0, i + 1).join(".");
    if (Array.isArray(cur) && /^\d+$/.test(step) && Number(step) < cur.length) cur = cur[Number(step)];
    else if (cur !== null && typeof cur === "object" && !Array.isArray(cur) && Object.hasOwn(cur, step)) cur = (cur as Record<string, unknown>)[step];
    else throw new InvalidArgumentError(`field: no value at path ${JSON.stringify(here)}`);
  }
  return JSONValue.of(cur);
}

/** A copy of `v` with `value` set at `path`, creating objects on the way. */
export function jsonWithField(v: JSONValue, steps: readonly string[], value: JSONValue): JSONValue {
  if (steps.length === 0) return value;
  const root: unknown = v.value ?? {};
  const set = (node: unknown, i: number): unknown => {
    const step = steps[i]!;
    const last = i === steps.length - 1;
    if (Array.isArray(node) && /^\d+$/.test(step)) {
      const copy = [...node];
      copy[Number(step)] = last ? value.value : set(copy[Number(step)] ?? {}, i + 1);
      return copy;
    }
    if (node === null || typeof node !== "object") throw new InvalidArgumentError(`withField: ${JSON.stringify(steps.slice(0, i).join("."))} is not an object`);
    const copy = { ...(node as Record<string, unknown>) };
    copy[step] = last ? value.value : set(copy[step] ?? {}, i + 1);
    return copy;
  };
  return JSONValue.of(set(root, 0));
}

export function jsonTyped<T>(v: JSONValue, want: "string" | "boolean" | "integer" | "array"): T {
  const x = v.value;
  const ok = want === "integer" ? Number.isInteger(x) : want === "array" ? Array.isArray(x) : typeof x === want;
  if (!ok) throw new InvalidArgumentError(`JSON value ${v.json.slice(0, 80)} is not a${want === "integer" || want === "array" ? "n" : ""} ${want}`);
  return x as T;
}
