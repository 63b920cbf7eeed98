/**
 * Help for a function of `tanto call` (what `dagger call … --help` shows):
 * its description, usage, the functions it leads to and its arguments.
 */
import { supportedFunctions } from "./argv.js";
import { unsupportedReason } from "./flags.js";
import { type Fn, type FnArg, isRequired, type ModuleModel, providerOf, shortDescription, typeString } from "./typedefs.js";

function table(rows: Array<[string, string]>, indent = "  "): string {
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width + 3)}${b}`.trimEnd() + "\n").join("");
}

function defaultText(arg: FnArg): string {
  if (arg.defaultPath !== "") return JSON.stringify(arg.defaultPath);
  if (arg.defaultValue === "") return "";
  try {
    const v: unknown = JSON.parse(arg.defaultValue);
    return typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? `[${v.join(" ")}]` : String(v);
  } catch {
    return "";
  }
}

function argText(model: ModuleModel, arg: FnArg): string {
  const parts: string[] = [];
  const first = arg.description.split("\n", 1)[0] ?? "";
  if (first !== "") parts.push(first);
  const def = defaultText(arg);
  if (def !== "") parts.push(`(default: ${def})`);
  if (arg.type.kind === "ENUM_KIND" && arg.type.name) {
    const e = model.enums.get(arg.type.name);
    if (e) parts.push(`(possible values: ${e.members.map((m) => m.name).join(", ")})`);
  }
  if (isRequired(arg)) parts.push("[required]");
  return parts.join(" ");
}

const OPTIONS =
  "\nOPTIONS\n" +
  table([
    ["-j, --json", "Present result as JSON"],
    ["-m, --mod string", "Module reference to load, either a local path or a remote git repo (defaults to current directory)"],
    ["-M, --no-mod", "Don't automatically load a module (mutually exclusive with --mod)"],
    ["-o, --output string", "Save the result to a local file or directory"],
  ]);

/** What `call --help` shows when no module could be loaded. */
export function staticCallHelp(): string {
  return (
    "Call one or more functions, interconnected into a pipeline\n\nUSAGE\n  tanto call [options] <function> [arguments] [<function> [arguments]]...\n" + OPTIONS
  );
}

export function callHelp(model: ModuleModel, fn: Fn, commandPath: string): string {
  let out = "";
  const description = fn.description !== "" ? fn.description : fn.name === "" || fn === model.constructorFn ? model.main.description : "";
  if (description !== "") out += description.trim() + "\n\n";
  const provider = providerOf(model, fn.returnType);
  const fns = provider ? supportedFunctions(provider).sort((a, b) => a.name.localeCompare(b.name)) : [];
  const args = fn.args.filter((a) => unsupportedReason(a) === undefined);
  out += "USAGE\n  " + commandPath + (args.length > 0 ? " [arguments]" : "") + (fns.length > 0 ? " <function>" : "") + "\n";
  if (fns.length > 0) out += "\nFUNCTIONS\n" + table(fns.map((f) => [f.cmd, shortDescription(f.description)]));
  if (args.length > 0) out += "\nARGUMENTS\n" + table(args.map((a) => [`--${a.flag} ${typeString(a.type)}`, argText(model, a)]));
  out += OPTIONS;
  if (fns.length > 0) out += `\nUse "${commandPath} <function> --help" for more information on a function.\n`;
  return out;
}
