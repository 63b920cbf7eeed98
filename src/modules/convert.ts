/**
 * Values between GraphQL and an SDK (core/modfunc.go ConvertToSDKInput,
 * ConvertFromSDKResult): core objects travel as their ID string, objects of
 * the module as their field map, enum values by member name, lists as
 * arrays, Void as null.
 */
import type { RequestContext } from "../core/types.js";
import { InvalidArgumentError } from "../errors.js";
import { IfaceValue } from "./interfaces.js";
import { ModObject } from "./mod-object.js";
import type { TypeDefData } from "./typedefs.js";
import { moduleApiTypes } from "./values.js";

/** Names of the module's own object types (served names). */
export type OwnTypes = ReadonlySet<string>;

export function toSdk(value: unknown, t: TypeDefData, own: OwnTypes): unknown {
  if (value === null || value === undefined) return null;
  switch (t.kind) {
    case "LIST_KIND":
      if (!Array.isArray(value)) throw new InvalidArgumentError(`want a list, got ${JSON.stringify(value)}`);
      return value.map((v) => toSdk(v, t.list!, own));
    case "OBJECT_KIND":
    case "INTERFACE_KIND": {
      const name = t.object?.name ?? t.iface?.name ?? "";
      if (own.has(name)) return ModObject.load(String(value), name).fields;
      return String(value);
    }
    case "ENUM_KIND": {
      const member = t.enumDef?.members.find((m) => m.name === value || m.originalName === value);
      return member ? member.originalName : value;
    }
    default:
      return value;
  }
}

export function fromSdk(value: unknown, t: TypeDefData, own: OwnTypes, ctx: RequestContext): unknown {
  if (value === null || value === undefined || t.kind === "VOID_KIND") return null;
  switch (t.kind) {
    case "LIST_KIND":
      if (!Array.isArray(value)) throw new InvalidArgumentError(`the function returned ${JSON.stringify(value)}, not a list`);
      return value.map((v) => fromSdk(v, t.list!, own, ctx));
    case "OBJECT_KIND":
    case "INTERFACE_KIND": {
      const name = t.object?.name ?? t.iface?.name ?? "";
      if (own.has(name)) {
        if (typeof value !== "object" || Array.isArray(value)) throw new InvalidArgumentError(`the function returned ${JSON.stringify(value)}, not a ${name}`);
        return new ModObject(name, value as Record<string, unknown>);
      }
      if (typeof value !== "string") throw new InvalidArgumentError(`the function returned ${JSON.stringify(value)}, not the ID of a ${name}`);
      void ctx;
      if (t.kind === "INTERFACE_KIND") return IfaceValue.load(value, name);
      return moduleApiTypes.load(value);
    }
    case "ENUM_KIND": {
      const member = t.enumDef?.members.find((m) => m.originalName === value || m.name === value);
      return member ? member.name : value;
    }
    default:
      return value;
  }
}
