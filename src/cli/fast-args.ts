/**
 * A small argument parser for the commands a session runs most (`engine`,
 * `query`, `session`, `run`), so that their start loads neither commander
 * nor the definitions of every other command. It understands exactly the
 * forms those commands document (`--opt value`, `--opt=value`, repeatable
 * and boolean options, `--progress`/`--timestamps` before the command) and
 * gives up — returns undefined — on anything else (`--help`, an unknown or
 * incomplete option, `--`, an extra argument…): the full parser in
 * program.ts then handles the line, with its messages and help.
 */

type Kind = "string" | "list" | "bool";
type Spec = Readonly<Record<string, { kind: Kind; short?: string }>>;

export type Values = Record<string, string | string[] | boolean>;

export type FastCommand =
  | { name: "engine"; opts: Values }
  | { name: "query"; operation: string | undefined; opts: Values; global: Values }
  | { name: "session"; opts: Values }
  | { name: "run"; command: string[]; opts: Values; global: Values };

const PROGRESS: Spec = { progress: { kind: "string" }, timestamps: { kind: "bool" } };

const ENGINE: Spec = {
  root: { kind: "string" },
  config: { kind: "string" },
  addr: { kind: "list" },
  debug: { kind: "bool" },
  "network-name": { kind: "string" },
  "network-cidr": { kind: "string" },
};
const QUERY: Spec = { doc: { kind: "string" }, var: { kind: "list" }, "var-json": { kind: "string" }, vars: { kind: "string" }, ...PROGRESS };
const SESSION: Spec = { workdir: { kind: "string" }, label: { kind: "list" } };
const RUN: Spec = { workdir: { kind: "string" }, interactive: { kind: "bool", short: "i" }, ...PROGRESS };

/** `argv` without node and the script; undefined when the full parser must decide. */
export function parseFast(argv: readonly string[]): FastCommand | undefined {
  const global: Values = {};
  let i = 0;
  // Options before the command: only the progress ones (program.ts's global options).
  for (; i < argv.length && argv[i]!.startsWith("-"); ) {
    const next = takeOption(argv, i, PROGRESS, global);
    if (next === undefined) return undefined;
    i = next;
  }
  const name = argv[i];
  const rest = argv.slice(i + 1);
  switch (name) {
    case "engine": {
      if (Object.keys(global).length > 0) return undefined;
      const args = rest[0] === "start" ? rest.slice(1) : rest;
      const parsed = parseArgs(args, ENGINE, 0, false);
      return parsed && { name: "engine", opts: parsed.opts };
    }
    case "query":
    case "q": {
      const parsed = parseArgs(rest, QUERY, 1, false);
      return parsed && { name: "query", operation: parsed.args[0], opts: parsed.opts, global };
    }
    case "session": {
      if (Object.keys(global).length > 0) return undefined;
      const parsed = parseArgs(rest, SESSION, 0, false);
      return parsed && { name: "session", opts: parsed.opts };
    }
    case "run": {
      const parsed = parseArgs(rest, RUN, Number.POSITIVE_INFINITY, true);
      if (!parsed || parsed.args.length === 0) return undefined;
      return { name: "run", command: parsed.args, opts: parsed.opts, global };
    }
    default:
      return undefined;
  }
}

/**
 * Options and up to `maxArgs` positional arguments; with `passThrough`, the
 * first positional argument ends the options (it and all after it are the
 * arguments, as `run`'s command).
 */
function parseArgs(args: readonly string[], spec: Spec, maxArgs: number, passThrough: boolean): { opts: Values; args: string[] } | undefined {
  const opts: Values = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; ) {
    const a = args[i]!;
    if (a.startsWith("-") && a !== "-") {
      const next = takeOption(args, i, spec, opts);
      if (next === undefined) return undefined;
      i = next;
      continue;
    }
    if (passThrough) {
      positional.push(...args.slice(i));
      break;
    }
    positional.push(a);
    i++;
  }
  if (positional.length > maxArgs) return undefined;
  return { opts, args: positional };
}

/** Reads the option at `args[i]` into `into`; returns the index after it, or undefined if it is not one of `spec`'s. */
function takeOption(args: readonly string[], i: number, spec: Spec, into: Values): number | undefined {
  const a = args[i]!;
  let key: string;
  let inline: string | undefined;
  if (a.startsWith("--")) {
    const eq = a.indexOf("=");
    key = eq < 0 ? a.slice(2) : a.slice(2, eq);
    inline = eq < 0 ? undefined : a.slice(eq + 1);
  } else {
    const short = Object.entries(spec).find(([, s]) => s.short !== undefined && `-${s.short}` === a);
    if (!short) return undefined;
    key = short[0];
  }
  const s = Object.hasOwn(spec, key) ? spec[key] : undefined;
  if (!s) return undefined;
  if (s.kind === "bool") {
    if (inline !== undefined) return undefined;
    into[camel(key)] = true;
    return i + 1;
  }
  const value = inline ?? args[i + 1];
  if (value === undefined) return undefined;
  const name = camel(key);
  if (s.kind === "list") into[name] = [...((into[name] as string[] | undefined) ?? []), value];
  else into[name] = value;
  return inline === undefined ? i + 2 : i + 1;
}

function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
