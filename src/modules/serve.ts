/**
 * Serving a module (core/object.go, core/module.go): its types become a
 * schema part — each object type with its stored fields and its functions,
 * its enums, and `Query.<moduleName>(constructor args)` returning the main
 * object. Functions call the module's runtime; their arguments and results
 * are converted to and from the SDK's JSON.
 */
import * as path from "node:path";
import { loadObject } from "../api/objects.js";
import type { Args } from "../api/resolvers/args.js";
import { Container, fromAddress } from "../core/container.js";
import { changeFs } from "../core/filesystem.js";
import { hostDirectory, hostFile } from "../core/host.js";
import { encodeId } from "../core/ids.js";
import type { RequestContext } from "../core/types.js";
import { Directory, File } from "../core/values.js";
import { InvalidArgumentError } from "../errors.js";
import type { ObjectLoader, SchemaPart } from "../schema/types.js";
import { callModule } from "./call.js";
import { fromSdk, type OwnTypes, toSdk } from "./convert.js";
import { IfaceValue, loadAsInterface } from "./interfaces.js";
import { ModObject } from "./mod-object.js";
import { lowerCamel, pascalCase } from "./names.js";
import { asModule } from "./register.js";
import type { ArgData, FunctionData, ObjectDefData, TypeDefData } from "./typedefs.js";
import { dirOf, type FunctionCallData, type ModuleData } from "./values.js";

/** The GraphQL type of a TypeDef; object arguments take IDs. */
export function gqlType(t: TypeDefData, input: boolean): string {
  let base: string;
  switch (t.kind) {
    case "STRING_KIND":
      base = "String";
      break;
    case "INTEGER_KIND":
      base = "Int";
      break;
    case "FLOAT_KIND":
      base = "Float";
      break;
    case "BOOLEAN_KIND":
      base = "Boolean";
      break;
    case "VOID_KIND":
      return "Void";
    case "SCALAR_KIND":
      base = t.scalar!.name;
      break;
    case "ENUM_KIND":
      base = t.enumDef!.name;
      break;
    case "LIST_KIND":
      base = `[${gqlType(t.list!, input)}]`;
      break;
    case "OBJECT_KIND":
    case "INTERFACE_KIND": {
      const name = t.object?.name ?? t.iface?.name ?? "";
      base = input ? `${name}ID` : name;
      break;
    }
    default:
      throw new InvalidArgumentError(`type kind ${t.kind} cannot be served`);
  }
  return t.optional ? base : `${base}!`;
}

const desc = (d: string): string => (d ? `${JSON.stringify(d)}\n` : "");

/** A GraphQL literal for an argument's JSON default, when it has one GraphQL can state. */
function defaultLiteral(a: ArgData): string {
  if (a.defaultValue === undefined) return "";
  let v: unknown;
  try {
    v = JSON.parse(a.defaultValue);
  } catch {
    return "";
  }
  if (v === null) return "";
  if (a.typeDef.kind === "ENUM_KIND" && typeof v === "string") {
    const m = a.typeDef.enumDef?.members.find((x) => x.originalName === v || x.name === v);
    return m ? ` = ${m.name}` : "";
  }
  const prim = (x: unknown): boolean => ["string", "number", "boolean"].includes(typeof x) || (Array.isArray(x) && x.every(prim));
  return prim(v) ? ` = ${JSON.stringify(v)}` : "";
}

function argSDL(a: ArgData): string {
  const optional = a.typeDef.optional || a.defaultValue !== undefined || Boolean(a.defaultPath) || Boolean(a.defaultAddress);
  const t = gqlType({ ...a.typeDef, optional }, true);
  return `${desc(a.description)}${a.name}: ${t}${defaultLiteral(a)}`;
}

function fnSDL(f: FunctionData, name = f.name): string {
  const args = f.args.length > 0 ? `(${f.args.map(argSDL).join(", ")})` : "";
  const deprecated = f.deprecated !== undefined ? ` @deprecated(reason: ${JSON.stringify(f.deprecated)})` : "";
  return `${desc(f.description)}${name}${args}: ${gqlType(f.returnType, false)}${deprecated}`;
}

function objectSDL(o: ObjectDefData): string {
  const fields = o.fields.map((f) => `${desc(f.description)}${f.name}: ${gqlType(f.typeDef, false)}`);
  return `${desc(o.description)}type ${o.name} implements Node {\nid: ID!\n${[...fields, ...o.functions.map((f) => fnSDL(f))].join("\n")}\n}`;
}

export function mainObject(mod: ModuleData): ObjectDefData | undefined {
  const main = pascalCase(mod.name);
  return mod.objects.map((t) => t.object!).find((o) => o.name === main);
}

/** The constructor of a module as a Query function (what currentTypeDefs shows). */
export function constructorFunction(mod: ModuleData): FunctionData | undefined {
  const main = mainObject(mod);
  if (!main) return undefined;
  const returnType: TypeDefData = { kind: "OBJECT_KIND", optional: false, object: main };
  return {
    name: lowerCamel(mod.name),
    originalName: mod.name,
    description: main.description,
    args: main.ctor?.args ?? [],
    returnType,
    sourceModuleName: mod.name,
  };
}

/** The schema part(s) that serve `mod`: its own types and constructor. */
export function servedParts(mod: ModuleData): SchemaPart[] {
  const objects = mod.objects.map((t) => t.object!).filter(Boolean);
  const own = ownTypes(mod);
  const sdl: string[] = [];
  const resolvers: Record<string, Record<string, (...args: never[]) => unknown>> = {};
  const loaders: Record<string, ObjectLoader> = {};
  for (const e of mod.enums) {
    const d = e.enumDef!;
    sdl.push(`${desc(d.description)}enum ${d.name} {\n${d.members.map((m) => `${desc(m.description)}${m.name}`).join("\n")}\n}`);
  }
  for (const o of objects) {
    sdl.push(objectSDL(o));
    const r: Record<string, (...args: never[]) => unknown> = { id: (x: ModObject) => x.id };
    for (const f of o.fields) r[f.name] = (x: ModObject, _a: Args, ctx: RequestContext) => fromSdk(x.fields[f.originalName], f.typeDef, own, ctx);
    for (const f of o.functions) r[f.name] = (x: ModObject, a: Args, ctx: RequestContext) => callFunction(ctx, mod, o, f, x.fields, a);
    resolvers[o.name] = r;
    loaders[o.name] = (id: string) => ModObject.load(id, o.name);
  }
  for (const t of mod.interfaces) {
    const i = t.iface!;
    sdl.push(`${desc(i.description)}type ${i.name} implements Node {\nid: ID!\n${i.functions.map((f) => fnSDL(f)).join("\n")}\n}`);
    const r: Record<string, (...args: never[]) => unknown> = { id: (x: IfaceValue) => x.id };
    for (const f of i.functions) r[f.name] = (x: IfaceValue, a: Args, ctx: RequestContext) => callThroughInterface(ctx, i, f, x, a);
    resolvers[i.name] = r;
    loaders[i.name] = (id: string, ctx: RequestContext) => loadAsInterface(id, i, ctx.session);
  }
  const main = mainObject(mod);
  const ctor = constructorFunction(mod);
  if (main && ctor) {
    sdl.push(`extend type Query {\n${fnSDL(ctor)}\n}`);
    resolvers["Query"] = {
      [ctor.name]: async (_: unknown, a: Args, ctx: RequestContext) => {
        if (!main.ctor) return new ModObject(main.name, {});
        const call: FunctionCallData = { name: "", parentName: main.originalName, parent: "null", inputArgs: await sdkArgs(ctx, mod, main.ctor, a, own) };
        return fromSdk(await callModule(ctx, mod, call, cachingOf(mod, main.ctor)), { kind: "OBJECT_KIND", optional: false, object: main }, own, ctx);
      },
    };
  }
  return [{ name: `module ${mod.name}`, sdl: sdl.join("\n\n"), resolvers, loaders }];
}

/** The names of a module's own object types. */
const ownTypes = (mod: ModuleData): OwnTypes => new Set(mod.objects.flatMap((t) => (t.object ? [t.object.name] : [])));

/** Call function `f` of object type `o` of `mod`, on an object with `fields`, with GraphQL arguments `a`. */
async function callFunction(ctx: RequestContext, mod: ModuleData, o: ObjectDefData, f: FunctionData, fields: Readonly<Record<string, unknown>>, a: Args) {
  const own = ownTypes(mod);
  const call: FunctionCallData = {
    name: f.originalName,
    parentName: o.originalName,
    parent: JSON.stringify(fields),
    inputArgs: await sdkArgs(ctx, mod, f, a, own),
  };
  return fromSdk(await callModule(ctx, mod, call, cachingOf(mod, f)), f.returnType, own, ctx);
}

/**
 * An interface's function on a value of it: the wrapped object's own function, run by the
 * object's module (found by its source, served here or not); a result the interface types as an
 * interface is wrapped again (core/interface.go wrapIface).
 */
async function callThroughInterface(ctx: RequestContext, iface: ObjectDefData, f: FunctionData, x: IfaceValue, a: Args): Promise<unknown> {
  const impl = await asModule(ctx, x.source);
  const o = impl.objects.flatMap((t) => (t.object ? [t.object] : [])).find((d) => d.name === x.impl);
  if (!o) throw new InvalidArgumentError(`${iface.name}: module ${JSON.stringify(impl.name)} has no object type ${x.impl}`);
  const fn = o.functions.find((g) => g.name === f.name);
  if (!fn) throw new InvalidArgumentError(`${iface.name}.${f.name}: ${x.impl} has no function ${f.name}`);
  const result = await callFunction(ctx, impl, o, fn, x.fields, a);
  const wrap = (v: unknown, t: TypeDefData): unknown => {
    if (t.kind === "LIST_KIND" && Array.isArray(v)) return v.map((e) => wrap(e, t.list!));
    if (t.kind === "INTERFACE_KIND" && v instanceof ModObject) return new IfaceValue(t.iface!.name, v.typename, v.fields, x.source);
    return v;
  };
  return wrap(result, f.returnType);
}

/** Default caching unless dagger.json turns it off or the engine version predates it. */
function cachingOf(mod: ModuleData, f: FunctionData): { policy: "Default" | "PerSession" | "Never"; ttl?: string } {
  const cfg = mod.source?.config;
  const defaultOn = !cfg?.disableDefaultFunctionCaching && versionAtLeast(cfg?.engineVersion ?? "", "v0.19.4");
  const policy = f.cachePolicy ?? (defaultOn ? "Default" : "PerSession");
  return { policy, ...(f.cacheTTL && policy === "Default" ? { ttl: f.cacheTTL } : {}) };
}

function versionAtLeast(v: string, min: string): boolean {
  if (v === "latest") return true;
  const parse = (s: string): number[] => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(s)?.slice(1) ?? ["0", "0", "0"]).map(Number);
  const [a, b] = [parse(v), parse(min)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/** The call's inputArgs: explicit arguments, else contextual defaults (defaultPath), else defaultValue. */
async function sdkArgs(ctx: RequestContext, mod: ModuleData, f: FunctionData, a: Args, own: OwnTypes): Promise<Array<{ name: string; value: string }>> {
  const out: Array<{ name: string; value: string }> = [];
  for (const arg of f.args) {
    const given = a[arg.name];
    if (given !== undefined && given !== null) {
      const value = arg.ignore?.length && arg.typeDef.object?.name === "Directory" ? filtered(String(given), arg.ignore) : given;
      out.push({ name: arg.originalName, value: JSON.stringify(toSdk(value, arg.typeDef, own)) });
    } else if (arg.defaultAddress) {
      const c = await fromAddress(Container.empty(ctx.deps.defaultPlatform), arg.defaultAddress, ctx);
      out.push({ name: arg.originalName, value: JSON.stringify(encodeId(c)) });
    } else if (arg.defaultPath) {
      out.push({ name: arg.originalName, value: JSON.stringify(await contextualArg(ctx, mod, arg)) });
    } else if (arg.defaultValue !== undefined) {
      out.push({ name: arg.originalName, value: arg.defaultValue });
    }
  }
  return out;
}

/** A Directory argument without what the function's `ignore` patterns name: the ID of a filtered copy. */
function filtered(id: string, ignore: string[]): string {
  const d = loadObject(id, "Directory") as Directory;
  return encodeId(new Directory(changeFs(undefined, [{ action: "copy", from: d, dest: "/", exclude: ignore }], "ignore"), "/"));
}

/** A Directory or File argument from the module's context (core/modfunc.go loadContextualArg): an ID. */
async function contextualArg(ctx: RequestContext, mod: ModuleData, arg: ArgData): Promise<string> {
  const s = mod.source;
  if (!s) throw new InvalidArgumentError(`argument ${arg.name}: defaultPath needs a module source`);
  const p = arg.defaultPath!;
  const rel = p.startsWith("/") ? p.slice(1) : path.posix.join(s.rootSubpath, p);
  const isFile = arg.typeDef.object?.name === "File";
  if (s.kind === "LOCAL_SOURCE" && s.localContextPath) {
    const hostPath = path.posix.join(s.localContextPath, rel);
    if (isFile) return encodeId(await hostFile(ctx, hostPath, false));
    return encodeId(await hostDirectory(ctx, hostPath, { include: [], exclude: arg.ignore ?? [], gitignore: false, noCache: false }));
  }
  const ctxDir = dirOf(s.context);
  const inside = path.posix.join(ctxDir.path, rel);
  return encodeId(isFile ? new File(ctxDir.source, inside) : new Directory(ctxDir.source, inside));
}
