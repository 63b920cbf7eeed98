/**
 * An object of a module type (core/object.go ModuleObject): the engine holds
 * its fields as the SDK sent them (JSON, keyed by the SDK's own names), and
 * its ID is that state, so any session serving the module can load it.
 */
import { decodeId, encodeId, type Identified } from "../core/ids.js";
import { InvalidArgumentError } from "../errors.js";

export class ModObject implements Identified {
  constructor(
    readonly typename: string,
    readonly fields: Readonly<Record<string, unknown>>,
  ) {}
  toJSON(): unknown {
    return { fields: this.fields };
  }
  get id(): string {
    return encodeId(this);
  }

  static load(id: string, typename: string): ModObject {
    const { typename: t, state } = decodeId(id);
    if (t !== typename) throw new InvalidArgumentError(`ID is a ${t}, expected a ${typename}`);
    const fields = (state as { fields?: unknown } | null)?.fields;
    if (fields === null || typeof fields !== "object" || Array.isArray(fields)) throw new InvalidArgumentError(`invalid ${typename} ID: no fields`);
    return new ModObject(typename, fields as Record<string, unknown>);
  }
}
