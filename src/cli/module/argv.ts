/**
 * `tanto call`'s command line walked as Dagger's CLI walks its command tree:
 * `[constructor flags] <function> [flags] [<function> [flags]]…`. Each level's
 * flags come before its sub-command (pflag without interspersing); names are
 * kebab-case (camelCase spellings are normalized to it); `-m/--mod`,
 * `-M/--no-mod`, `-o/--output`, `-j/--json` and `-h/--help` are accepted at
 * any level. Unknown functions and flags are errors listing the known ones.
 */
import { InvalidArgumentError } from "../../errors.js";
import { FlagSet, unsupportedReason } from "./flags.js";
import { kebab } from "./names.js";
import { type Fn, findFunction, isRequired, type ModuleModel, type ObjectDef, providerOf } from "./typedefs.js";

/** An error in how the command was used: printed with a pointer to --help. */
export class UsageError extends InvalidArgumentError {
  constructor(
    message: string,
    readonly commandPath: string,
  ) {
    super(message);
  }
}

export interface GlobalFlags {
  mod?: string | undefined;
  noMod: boolean;
  output?: string | undefined;
  json: boolean;
  help: boolean;
}

export interface CallLevel {
  fn: Fn;
  flags: FlagSet;
  /** "tanto call container-echo" */
  commandPath: string;
}

/** Functions a command offers: those whose required arguments all work as flags. */
export function supportedFunctions(obj: ObjectDef): Fn[] {
  return obj.functions.filter((f) => f.name !== "id" && !f.args.some((a) => isRequired(a) && unsupportedReason(a) !== undefined));
}

const LONG_GLOBALS = new Set(["mod", "no-mod", "output", "json", "help"]);
const SHORT_GLOBALS: Record<string, string> = { m: "mod", M: "no-mod", o: "output", j: "json", h: "help" };
const GLOBAL_TAKES_VALUE = new Set(["mod", "output"]);

function setGlobal(g: GlobalFlags, name: string, value: string | undefined): void {
  if (name === "mod") g.mod = value!;
  else if (name === "output") g.output = value!;
  else if (name === "no-mod") g.noMod = value === undefined || value === "true";
  else if (name === "json") g.json = value === undefined || value === "true";
  else if (name === "help") g.help = value === undefined || value === "true";
}

/**
 * Module selection and help only, before the module is known (flags of
 * functions are skipped over as well as can be without their types).
 */
export function scanGlobals(argv: readonly string[]): GlobalFlags {
  const g: GlobalFlags = { noMod: false, json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === "--") break;
    const long = /^--([^=]+)(?:=(.*))?$/.exec(t);
    if (long) {
      const name = long[1]!;
      if (!LONG_GLOBALS.has(name)) continue;
      let value = long[2];
      if (value === undefined && GLOBAL_TAKES_VALUE.has(name)) value = argv[++i];
      setGlobal(g, name, value);
    } else if (/^-[A-Za-z]/.test(t)) {
      const r = shorthands(t, argv, i + 1, () => undefined);
      if (!r) continue;
      for (const [name, value] of r.flags) setGlobal(g, name, value);
      i = r.next - 1;
    }
  }
  return g;
}

/**
 * pflag's shorthand groups: `-jM` sets both; a letter taking a value takes
 * the rest of the token (`-ofile`, `-o=file`) or the next argument. Undefined
 * when a letter is not a global flag (after `unknown` had its say).
 */
function shorthands(
  token: string,
  argv: readonly string[],
  next: number,
  unknown: (letter: string) => void,
  missing?: (letter: string) => never,
): { flags: Array<[string, string | undefined]>; next: number } | undefined {
  const flags: Array<[string, string | undefined]> = [];
  for (let k = 1; k < token.length; k++) {
    const letter = token[k]!;
    const name = SHORT_GLOBALS[letter];
    if (name === undefined) {
      unknown(letter);
      return undefined;
    }
    if (!GLOBAL_TAKES_VALUE.has(name)) {
      flags.push([name, undefined]);
      continue;
    }
    const rest = token.slice(k + 1).replace(/^=/, "");
    if (rest !== "") flags.push([name, rest]);
    else if (next < argv.length) flags.push([name, argv[next++]]);
    else missing?.(letter);
    return { flags, next };
  }
  return { flags, next };
}

/** The Query root as a constructor without a name (core API calls). */
export function rootConstructor(model: ModuleModel): Fn {
  return { name: "", cmd: "", description: "", returnType: { kind: "OBJECT_KIND", optional: false, name: model.root.name }, args: [] };
}

function parseFlags(argv: readonly string[], start: number, flags: FlagSet, globals: GlobalFlags, level: CallLevel): number {
  let i = start;
  while (i < argv.length) {
    const t = argv[i]!;
    if (t === "--") return i + 1;
    if (!t.startsWith("-") || t === "-") return i;
    i++;
    if (t.startsWith("--")) {
      const eq = t.indexOf("=");
      const raw = eq < 0 ? t.slice(2) : t.slice(2, eq);
      const inline = eq < 0 ? undefined : t.slice(eq + 1);
      const name = kebab(raw);
      const arg = flags.lookup(name);
      if (!arg) {
        if (LONG_GLOBALS.has(name)) {
          let value = inline;
          if (value === undefined && GLOBAL_TAKES_VALUE.has(name)) {
            if (i >= argv.length) throw new UsageError(`flag needs an argument: --${name}`, level.commandPath);
            value = argv[i++];
          }
          setGlobal(globals, name, value);
          continue;
        }
        if (globals.help) continue;
        const known = flags.args.map((a) => `--${a.flag}`);
        throw new UsageError(
          `unknown flag: --${raw}` +
            (known.length > 0 ? ` (flags of "${level.commandPath}": ${known.join(", ")})` : ` ("${level.commandPath}" takes no flags)`),
          level.commandPath,
        );
      }
      let value = inline;
      if (value === undefined) {
        if (flags.isBool(arg)) value = "true";
        else {
          if (i >= argv.length) throw new UsageError(`flag needs an argument: --${arg.flag}`, level.commandPath);
          value = argv[i++]!;
        }
      }
      flags.set(arg, value);
      continue;
    }
    // Shorthand: only the global ones exist.
    const r = shorthands(
      t,
      argv,
      i,
      (letter) => {
        if (!globals.help) throw new UsageError(`unknown shorthand flag: '${letter}' in ${t}`, level.commandPath);
      },
      (letter) => {
        throw new UsageError(`flag needs an argument: '${letter}' in -${letter}`, level.commandPath);
      },
    );
    if (!r) continue;
    for (const [name, value] of r.flags) setGlobal(globals, name, value);
    i = r.next;
  }
  return i;
}

export interface ParsedCall {
  levels: CallLevel[];
  globals: GlobalFlags;
}

export function parseCall(model: ModuleModel, argv: readonly string[], rootPath = "tanto call"): ParsedCall {
  const globals: GlobalFlags = scanGlobals(argv);
  globals.output = undefined;
  globals.json = false;
  const levels: CallLevel[] = [];
  let fn = model.constructorFn ?? rootConstructor(model);
  let commandPath = rootPath;
  let i = 0;
  for (;;) {
    const args = fn.args.filter((a) => unsupportedReason(a) === undefined);
    const level: CallLevel = { fn, flags: new FlagSet(args, model), commandPath };
    i = parseFlags(argv, i, level.flags, globals, level);
    levels.push(level);
    if (!globals.help) {
      const missing = level.flags.missing(isRequired);
      if (missing.length > 0) throw new UsageError(`required flag(s) "${missing.join('", "')}" not set`, commandPath);
    }
    if (i >= argv.length) break;
    const name = argv[i++]!;
    const provider = providerOf(model, fn.returnType);
    const available = provider ? supportedFunctions(provider) : [];
    const next = provider ? findFunction(provider, name) : undefined;
    if (!next || !available.includes(next)) {
      if (available.length === 0) throw new UsageError(`unknown command ${JSON.stringify(name)} for "${commandPath}" (it has no functions)`, commandPath);
      throw new UsageError(
        `unknown command ${JSON.stringify(name)} for "${commandPath}" (functions: ${available
          .map((f) => f.cmd)
          .sort()
          .join(", ")})`,
        commandPath,
      );
    }
    fn = next;
    commandPath += " " + next.cmd;
  }
  return { levels, globals };
}
