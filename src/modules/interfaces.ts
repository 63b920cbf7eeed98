/**
 * Module interfaces (core/interface.go): an interface a module declares is
 * served, as Dagger serves it, as an object type of its own (`MyModuleFooer`,
 * with `id` and the interface's functions), whose values wrap an object of
 * any module that has those functions. An object type that has them gets a
 * conversion field `as<Interface>` in every schema serving both (Dagger adds
 * it when it builds a schema from a set of modules); calling an interface's
 * function calls the wrapped object's own function, in its own module.
 *
 * The wrapped object's module travels in the value's ID (its source), so a
 * session that does not serve that module (the interface's own module, whose
 * code received the value) can still call it.
 */
import { decodeId, encodeId, type Identified } from "../core/ids.js";
import { InvalidArgumentError } from "../errors.js";
import type { SchemaPart } from "../schema/types.js";
import { ModObject } from "./mod-object.js";
import { lowerCamel } from "./names.js";
import type { FunctionData, ObjectDefData, TypeDefData } from "./typedefs.js";
import type { ModuleData, SourceData } from "./values.js";

/** A value of an interface type: an object of another type, and where that type comes from. */
export class IfaceValue implements Identified {
  constructor(
    /** The interface's served name. */
    readonly typename: string,
    /** The wrapped object's served type name. */
    readonly impl: string,
    readonly fields: Readonly<Record<string, unknown>>,
    /** The source of the module the wrapped object's type belongs to. */
    readonly source: SourceData,
  ) {}
  toJSON(): unknown {
    return { impl: this.impl, fields: this.fields, source: this.source };
  }
  get id(): string {
    return encodeId(this);
  }

  static load(id: string, typename: string): IfaceValue {
    const { typename: t, state } = decodeId(id);
    if (t !== typename) throw new InvalidArgumentError(`ID is a ${t}, expected a ${typename}`);
    const s = state as { impl?: unknown; fields?: unknown; source?: unknown } | null;
    if (typeof s?.impl !== "string" || s.fields === null || typeof s.fields !== "object" || s.source === null || typeof s.source !== "object") {
      throw new InvalidArgumentError(`invalid ${typename} ID: want the wrapped object's type, fields and module source`);
    }
    return new IfaceValue(typename, s.impl, s.fields as Record<string, unknown>, s.source as SourceData);
  }
}

const named = (t: TypeDefData): string | undefined => t.object?.name ?? t.iface?.name ?? t.enumDef?.name ?? t.scalar?.name;

/** The types known by name, and the `Type<Interface` pairs being checked (assumed to hold: types may refer to themselves). */
interface Scope {
  ifaces: ReadonlyMap<string, ObjectDefData>;
  objects: ReadonlyMap<string, ObjectDefData>;
  assuming: Set<string>;
}

/**
 * Whether a value of type `sub` may stand where `sup` is expected (core/typedef.go IsSubtypeOf):
 * same kind and name, list elements alike, and an object (or interface) for an interface it implements.
 */
function isSubtype(sub: TypeDefData, sup: TypeDefData, scope: Scope): boolean {
  if (sub.kind === "LIST_KIND" || sup.kind === "LIST_KIND") {
    return sub.kind === sup.kind && sub.list !== undefined && sup.list !== undefined && isSubtype(sub.list, sup.list, scope);
  }
  if (sup.kind === "INTERFACE_KIND" && (sub.kind === "OBJECT_KIND" || sub.kind === "INTERFACE_KIND")) {
    if (named(sub) === named(sup)) return true;
    const def = sub.kind === "OBJECT_KIND" ? scope.objects.get(named(sub) ?? "") : scope.ifaces.get(named(sub) ?? "");
    const iface = scope.ifaces.get(named(sup) ?? "");
    return def !== undefined && iface !== undefined && fits(def, iface, scope);
  }
  return sub.kind === sup.kind && named(sub) === named(sup);
}

/** A function may stand for an interface's: covariant result, the same arguments in order (contravariant types), extra ones optional. */
function functionFits(fn: FunctionData, want: FunctionData, scope: Scope): boolean {
  if (!isSubtype(fn.returnType, want.returnType, scope)) return false;
  if (fn.args.length < want.args.length) return false;
  for (const [i, w] of want.args.entries()) {
    const a = fn.args[i]!;
    if (a.name !== w.name || a.typeDef.optional !== w.typeDef.optional) return false;
    if (!isSubtype(w.typeDef, a.typeDef, scope)) return false;
  }
  return fn.args.slice(want.args.length).every((a) => a.typeDef.optional || a.defaultValue !== undefined);
}

function fits(def: ObjectDefData, iface: ObjectDefData, scope: Scope): boolean {
  if (def.name === iface.name) return false;
  const key = `${def.name}<${iface.name}`;
  if (scope.assuming.has(key)) return true;
  scope.assuming.add(key);
  try {
    return iface.functions.every((want) => {
      const fn = def.functions.find((f) => f.name === want.name);
      return fn !== undefined && functionFits(fn, want, scope);
    });
  } finally {
    scope.assuming.delete(key);
  }
}

/** Whether `def` (an object or interface) has every function of `iface`, with `ifaces` and `objects` the types in scope by name. */
export function implementsInterface(
  def: ObjectDefData,
  iface: ObjectDefData,
  ifaces: ReadonlyMap<string, ObjectDefData>,
  objects: ReadonlyMap<string, ObjectDefData>,
): boolean {
  return fits(def, iface, { ifaces, objects, assuming: new Set() });
}

/** `as<Interface>`: the conversion field's GraphQL name (Dagger: gqlFieldName("as" + name)). */
export const conversionField = (ifaceName: string): string => lowerCamel(`as${ifaceName}`);

/**
 * The conversion fields among `mods`' objects and interfaces that `done` (pairs
 * `Object.Interface` already served) lacks, as a schema part; `done` is updated.
 */
export function conversionParts(mods: readonly ModuleData[], done: Set<string>): SchemaPart[] {
  const objects = new Map<string, { def: ObjectDefData; mod: ModuleData }>();
  const ifaces = new Map<string, ObjectDefData>();
  for (const m of mods) {
    for (const t of m.objects) if (t.object) objects.set(t.object.name, { def: t.object, mod: m });
    for (const t of m.interfaces) if (t.iface) ifaces.set(t.iface.name, t.iface);
  }
  const objectDefs = new Map([...objects].map(([k, v]) => [k, v.def]));
  const sdl: string[] = [];
  const resolvers: Record<string, Record<string, (x: ModObject) => IfaceValue>> = {};
  for (const [name, { def, mod }] of objects) {
    for (const iface of ifaces.values()) {
      const key = `${name}.${iface.name}`;
      if (done.has(key) || !implementsInterface(def, iface, ifaces, objectDefs)) continue;
      done.add(key);
      const field = conversionField(iface.name);
      sdl.push(`extend type ${name} {\n${JSON.stringify(`Converts this ${name} to a ${iface.name}.`)}\n${field}: ${iface.name}!\n}`);
      (resolvers[name] ??= {})[field] = (x: ModObject) => {
        if (!mod.source) throw new InvalidArgumentError(`${name} cannot become a ${iface.name}: its module ${JSON.stringify(mod.name)} has no source`);
        return new IfaceValue(iface.name, name, x.fields, mod.source);
      };
    }
  }
  return sdl.length > 0 ? [{ name: `interface conversions of ${Object.keys(resolvers).join(", ")}`, sdl: sdl.join("\n\n"), resolvers }] : [];
}

/** Per session, the modules it serves (kept by served.ts): an interface's loader looks its implementations up there. */
const servedBySession = new WeakMap<object, ReadonlyMap<string, ModuleData>>();

export function noteServed(session: object, mods: ReadonlyMap<string, ModuleData>): void {
  servedBySession.set(session, mods);
}

/**
 * `load<Interface>FromID`: an ID of the interface, or of an object of a type served in `session`
 * that implements it (core/interface.go: "allow any ID that implements this interface").
 */
export function loadAsInterface(id: string, iface: ObjectDefData, session: object): IfaceValue {
  const { typename } = decodeId(id);
  if (typename === iface.name) return IfaceValue.load(id, iface.name);
  const mods = [...(servedBySession.get(session)?.values() ?? [])];
  const owner = mods.find((m) => m.objects.some((t) => t.object?.name === typename));
  if (!owner) throw new InvalidArgumentError(`cannot load a ${iface.name} from the ID of a ${typename}: not an object type of a module served here`);
  const objects = new Map(mods.flatMap((m) => m.objects.flatMap((t) => (t.object ? [[t.object.name, t.object] as const] : []))));
  const ifaces = new Map(mods.flatMap((m) => m.interfaces.flatMap((t) => (t.iface ? [[t.iface.name, t.iface] as const] : []))));
  if (!implementsInterface(objects.get(typename)!, iface, ifaces, objects))
    throw new InvalidArgumentError(`type ${typename} does not implement interface ${iface.name}`);
  if (!owner.source) throw new InvalidArgumentError(`${typename} cannot become a ${iface.name}: its module ${JSON.stringify(owner.name)} has no source`);
  return new IfaceValue(iface.name, typename, ModObject.load(id, typename).fields, owner.source);
}
