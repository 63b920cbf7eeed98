/**
 * Function arguments as flags, with pflag's conventions as Dagger's CLI uses
 * them: `--name value` or `--name=value`; booleans alone mean true; lists
 * take comma-separated values (CSV) and repeat (the first use replaces the
 * default, later ones append); enums match member names case-insensitively;
 * object types take an address (a path, git URL, image, secret URI…) that is
 * turned into an object later (object-args.ts). Errors name the flag.
 */
import { InvalidArgumentError } from "../../errors.js";
import type { FnArg, ModuleModel, TypeRef } from "./typedefs.js";

/** Core object types a flag can build from a string, as Dagger's CLI does. */
export const OBJECT_FLAG_TYPES = new Set(["Container", "Directory", "File", "Secret", "Service", "CacheVolume", "Socket"]);

export type FlagValue =
  | { kind: "string"; value: string }
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "enum"; value: string }
  | { kind: "object"; type: string; address: string }
  | { kind: "list"; items: FlagValue[] };

/** Why an argument cannot be a flag, or undefined when it can. */
export function unsupportedReason(arg: FnArg): string | undefined {
  const t = arg.type;
  const scalarOk = (x: TypeRef): boolean => ["STRING_KIND", "INTEGER_KIND", "FLOAT_KIND", "BOOLEAN_KIND", "SCALAR_KIND", "ENUM_KIND"].includes(x.kind);
  const objectOk = (x: TypeRef): boolean => x.kind === "OBJECT_KIND" && x.name !== undefined && OBJECT_FLAG_TYPES.has(x.name);
  if (scalarOk(t)) return undefined;
  if (objectOk(t)) return arg.flag === "id" ? `${t.name}ID` : undefined;
  if (t.kind === "OBJECT_KIND") return `${JSON.stringify(t.name)} object`;
  if (t.kind === "INPUT_KIND") return `${JSON.stringify(t.name)} input`;
  if (t.kind === "LIST_KIND" && t.elem) {
    if (scalarOk(t.elem) || objectOk(t.elem)) return undefined;
    if (t.elem.kind === "LIST_KIND") return "list of lists";
    return `list of ${JSON.stringify(t.elem.name)} ${t.elem.kind === "INPUT_KIND" ? "inputs" : "objects"}`;
  }
  return t.kind;
}

const BOOL_WORDS: Record<string, boolean> = {
  "1": true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

function invalid(arg: FnArg, raw: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid argument ${JSON.stringify(raw)} for "--${arg.flag}" flag: ${why}`);
}

/** One value of a non-list type from its text. */
export function parseScalar(arg: FnArg, type: TypeRef, raw: string, model: ModuleModel): FlagValue {
  switch (type.kind) {
    case "STRING_KIND":
    case "SCALAR_KIND":
      return { kind: "string", value: raw };
    case "INTEGER_KIND": {
      if (!/^[+-]?\d+$/.test(raw)) throw invalid(arg, raw, "not an integer");
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw invalid(arg, raw, "integer out of range");
      return { kind: "int", value: n };
    }
    case "FLOAT_KIND": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw invalid(arg, raw, "not a number");
      return { kind: "float", value: n };
    }
    case "BOOLEAN_KIND": {
      const b = BOOL_WORDS[raw];
      if (b === undefined) throw invalid(arg, raw, "not a boolean (true or false)");
      return { kind: "bool", value: b };
    }
    case "ENUM_KIND": {
      const e = type.name !== undefined ? model.enums.get(type.name) : undefined;
      if (!e) throw invalid(arg, raw, `unknown enum type ${JSON.stringify(type.name)}`);
      const member = e.members.find((m) => m.name.toLowerCase() === raw.toLowerCase());
      if (!member) throw invalid(arg, raw, `value should be one of ${e.members.map((m) => m.name).join(",")}`);
      return { kind: "enum", value: member.name };
    }
    case "OBJECT_KIND": {
      const name = type.name ?? "";
      if (raw === "") throw invalid(arg, raw, `${name} address cannot be empty`);
      if (name === "Service" && !/^(tcp|udp):\/\/[^/]+:\d+\/?$/.test(raw)) {
        throw invalid(arg, raw, "unsupported service address. Must be a valid tcp:// or udp:// URL");
      }
      return { kind: "object", type: name, address: raw };
    }
    default:
      throw invalid(arg, raw, `unsupported type ${type.kind}`);
  }
}

/** Go's encoding/csv for one record: commas separate, double quotes quote. */
export function readCsv(text: string): string[] {
  if (text === "") return [];
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new InvalidArgumentError(`extraneous or missing " in quoted-field: ${text}`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ",") throw new InvalidArgumentError(`extraneous or missing " in quoted-field: ${text}`);
    } else {
      const comma = text.indexOf(",", i);
      field = text.slice(i, comma < 0 ? text.length : comma);
      i = comma < 0 ? text.length : comma;
    }
    out.push(field);
    if (i >= text.length) return out;
    i++; // the comma
    if (i === text.length) {
      out.push("");
      return out;
    }
  }
}

/** The items one use of a list flag contributes. */
export function parseListItems(arg: FnArg, raw: string, model: ModuleModel): FlagValue[] {
  const elem = arg.type.elem!;
  let parts: string[];
  switch (elem.kind) {
    case "STRING_KIND":
    case "SCALAR_KIND":
      parts = readCsv(raw);
      break;
    case "INTEGER_KIND":
    case "FLOAT_KIND":
      parts = raw === "" ? [] : raw.split(",");
      break;
    case "BOOLEAN_KIND":
      parts = readCsv(raw).map((s) => s.trim());
      break;
    default:
      // Enums and objects: quotes dropped, items trimmed.
      parts = readCsv(raw.replace(/["'`]/g, "")).map((s) => s.trim());
  }
  return parts.map((p) => parseScalar(arg, elem, p, model));
}

/** The flags given to one function: values by argument name, in the order set. */
export class FlagSet {
  readonly values = new Map<string, FlagValue>();

  constructor(
    readonly args: readonly FnArg[],
    private readonly model: ModuleModel,
  ) {}

  lookup(flag: string): FnArg | undefined {
    return this.args.find((a) => a.flag === flag);
  }

  isBool(arg: FnArg): boolean {
    return arg.type.kind === "BOOLEAN_KIND";
  }

  set(arg: FnArg, raw: string): void {
    if (arg.type.kind === "LIST_KIND") {
      const items = parseListItems(arg, raw, this.model);
      const prev = this.values.get(arg.name);
      this.values.set(arg.name, { kind: "list", items: prev && prev.kind === "list" ? [...prev.items, ...items] : items });
      return;
    }
    this.values.set(arg.name, parseScalar(arg, arg.type, raw, this.model));
  }

  /** Required flags not given, by flag name. */
  missing(isRequired: (a: FnArg) => boolean): string[] {
    return this.args.filter((a) => isRequired(a) && !this.values.has(a.name)).map((a) => a.flag);
  }
}
