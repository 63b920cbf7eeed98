/**
 * From a parsed command line to the selection chain of the call: the
 * constructor (unless calling the core API), each function with the flags
 * that were set (in argument order; unset optional ones are not sent), then
 * the leaf. Object arguments are resolved to IDs first (object-args.ts).
 */
import type { CallLevel } from "./argv.js";
import type { FlagValue } from "./flags.js";
import type { Literal, Step } from "./graphql.js";
import { objectSteps } from "./object-args.js";
import type { FnArg } from "./typedefs.js";

export interface ObjectArg {
  value: Extract<FlagValue, { kind: "object" }>;
  arg: FnArg;
}

/** Every object value given in flags (list items included). */
export function objectArgs(levels: readonly CallLevel[]): ObjectArg[] {
  const out: ObjectArg[] = [];
  for (const level of levels) {
    for (const arg of level.flags.args) {
      const v = level.flags.values.get(arg.name);
      if (!v) continue;
      const items = v.kind === "list" ? v.items : [v];
      for (const item of items) if (item.kind === "object") out.push({ value: item, arg });
    }
  }
  return out;
}

/** The queries that turn object arguments into IDs. */
export function objectArgSteps(args: readonly ObjectArg[], cwd: string): Step[][] {
  return args.map(({ value, arg }) => objectSteps(value.type, value.address, { ignore: arg.ignore, cwd }));
}

function toLiteral(v: FlagValue, ids: ReadonlyMap<FlagValue, string>): Literal {
  switch (v.kind) {
    case "string":
    case "int":
    case "float":
    case "bool":
      return v.value;
    case "enum":
      return { enum: v.value };
    case "object": {
      const id = ids.get(v);
      if (id === undefined) throw new Error(`object argument ${v.type} ${JSON.stringify(v.address)} was not resolved`);
      return id;
    }
    case "list":
      return v.items.map((x) => toLiteral(x, ids));
  }
}

export function callSteps(levels: readonly CallLevel[], ids: ReadonlyMap<FlagValue, string>): Step[] {
  const steps: Step[] = [];
  for (const level of levels) {
    if (level.fn.name === "") continue;
    const args: Array<[string, Literal]> = [];
    for (const arg of level.fn.args) {
      const v = level.flags.values.get(arg.name);
      if (v) args.push([arg.name, toLiteral(v, ids)]);
    }
    steps.push(args.length > 0 ? { field: level.fn.name, args } : { field: level.fn.name });
  }
  return steps;
}
