/**
 * `asModule` (core/schema/modulesource.go, core/module.go): a module source
 * becomes a Module — its dependencies first, then its types, registered by
 * the SDK's runtime in a call named "" (no parent), which returns the ID of
 * a Module built with the typeDef builders. The engine takes its objects,
 * enums and interfaces, namespaced by the module's name.
 */
import type { RequestContext } from "../core/types.js";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import { SCHEMA_VERSION } from "../schema/schema-version.js";
import { callModule } from "./call.js";
import { BoundedMemo } from "./memo.js";
import { namespaceType } from "./names.js";
import type { FunctionData, ObjectDefData, TypeDefData } from "./typedefs.js";
import { loadValue, type ModuleData, type SourceData } from "./values.js";

/**
 * Registered modules by source digest, per engine. The digest covers the source's content (a
 * client directory by its content digest, a git tree by commit), its configuration and its
 * dependencies', so a source seen before registers as it did then: a repeated call neither
 * builds the runtime nor looks up the registration exec again.
 */
const registered = new WeakMap<object, BoundedMemo<ModuleData>>();

/** The module of a source (once per engine and source digest). */
export function asModule(ctx: RequestContext, s: SourceData): Promise<ModuleData> {
  let memo = registered.get(ctx.deps);
  if (!memo) registered.set(ctx.deps, (memo = new BoundedMemo(64)));
  return memo.get(s.digest, () => load(ctx, s));
}

async function load(ctx: RequestContext, s: SourceData): Promise<ModuleData> {
  const cfg = s.config;
  if (!cfg.name) throw new InvalidArgumentError(`module at ${JSON.stringify(s.refString)} has no name: set "name" in dagger.json or call withName`);
  checkEngineVersion(cfg.name, cfg.engineVersion);
  const dependencies = await Promise.all(s.dependencies.map((d) => asModule(ctx, d)));
  const base: ModuleData = {
    name: cfg.name,
    originalName: s.originalName ?? cfg.name,
    description: "",
    ...(cfg.sdk ? { sdk: cfg.sdk.source } : {}),
    objects: [],
    interfaces: [],
    enums: [],
    source: s,
    dependencies,
  };
  if (!cfg.sdk) return base;
  const returned = await callModule(ctx, base, { name: "", parentName: "", parent: "null", inputArgs: [] }, { policy: "Default" });
  if (typeof returned !== "string")
    throw new FailedPreconditionError(`module ${JSON.stringify(cfg.name)}: the registration call returned ${JSON.stringify(returned)}, not a Module ID`);
  const registered = loadValue<ModuleData>(returned, "Module").data;
  checkSignatures(registered, dependencies);
  return namespaceModule({
    ...base,
    description: registered.description,
    objects: registered.objects,
    interfaces: registered.interfaces,
    enums: registered.enums,
    registered: true,
  });
}

/** Functions may not take or return a dependency's types (core/module.go validateObjectTypeDef). */
export function checkSignatures(mod: ModuleData, deps: readonly ModuleData[]): void {
  const own = new Set([...mod.objects, ...mod.interfaces, ...mod.enums].map((t) => (t.object ?? t.iface ?? t.enumDef)?.name));
  const foreign = new Map<string, string>();
  for (const d of deps) for (const t of [...d.objects, ...d.interfaces, ...d.enums]) foreign.set((t.object ?? t.iface ?? t.enumDef)!.name, d.name);
  const check = (t: TypeDefData, where: string): void => {
    if (t.list) return check(t.list, where);
    const name = (t.object ?? t.iface ?? t.enumDef)?.name;
    if (name && !own.has(name) && foreign.has(name)) {
      throw new InvalidArgumentError(
        `${where} uses type ${name} of dependency ${JSON.stringify(foreign.get(name))}: a module's functions may not take or return its dependencies' types`,
      );
    }
  };
  for (const t of mod.objects) {
    const o = t.object!;
    for (const f of o.fields) check(f.typeDef, `field ${o.originalName}.${f.originalName}`);
    for (const f of [...o.functions, ...(o.ctor ? [o.ctor] : [])]) {
      check(f.returnType, `function ${o.originalName}.${f.originalName || "constructor"}`);
      for (const a of f.args) check(a.typeDef, `argument ${a.originalName} of ${o.originalName}.${f.originalName || "constructor"}`);
    }
  }
}

function checkEngineVersion(name: string, version: string): void {
  if (!version || version === "latest") return;
  const parse = (v: string): number[] => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1) ?? ["0", "0", "0"]).map(Number);
  const [want, have] = [parse(version), parse(SCHEMA_VERSION)];
  for (let i = 0; i < 3; i++) {
    if (want[i]! < have[i]!) return;
    if (want[i]! > have[i]!) throw new FailedPreconditionError(`module ${name} requires dagger ${version}, but you have ${SCHEMA_VERSION}`);
  }
}

/** The module's types under their served names, with sourceModuleName set. */
export function namespaceModule(mod: ModuleData): ModuleData {
  const rename = new Map<string, string>();
  for (const t of [...mod.objects, ...mod.interfaces, ...mod.enums]) {
    const d = t.object ?? t.iface ?? t.enumDef;
    if (d) rename.set(d.name, namespaceType(d.originalName, mod.name, mod.originalName));
  }
  const fn = (f: FunctionData): FunctionData => ({
    ...f,
    sourceModuleName: mod.name,
    returnType: ref(f.returnType),
    args: f.args.map((a) => ({ ...a, typeDef: ref(a.typeDef) })),
  });
  const obj = (o: ObjectDefData, own: boolean): ObjectDefData => {
    const name = rename.get(o.name) ?? o.name;
    if (!own) return { ...o, name };
    return {
      ...o,
      name,
      sourceModuleName: mod.name,
      fields: o.fields.map((f) => ({ ...f, typeDef: ref(f.typeDef) })),
      functions: o.functions.map(fn),
      ...(o.ctor ? { ctor: fn(o.ctor) } : {}),
    };
  };
  /** A reference to a type (in a signature): renamed if it is one of the module's. */
  const ref = (t: TypeDefData): TypeDefData => {
    if (t.list) return { ...t, list: ref(t.list) };
    if (t.object) return { ...t, object: obj(t.object, false) };
    if (t.iface) return { ...t, iface: obj(t.iface, false) };
    if (t.enumDef && rename.has(t.enumDef.name)) {
      // The full definition, so that values convert between member names and the SDK's.
      const full = mod.enums.find((e) => e.enumDef?.name === t.enumDef!.name)?.enumDef ?? t.enumDef;
      return { ...t, enumDef: { ...full, name: rename.get(t.enumDef.name)!, sourceModuleName: mod.name } };
    }
    return t;
  };
  return {
    ...mod,
    objects: mod.objects.map((t) => ({ ...t, object: obj(t.object!, true) })),
    interfaces: mod.interfaces.map((t) => ({ ...t, iface: obj(t.iface!, true) })),
    enums: mod.enums.map((t) => ({ ...t, enumDef: { ...t.enumDef!, name: rename.get(t.enumDef!.name)!, sourceModuleName: mod.name } })),
  };
}
