/**
 * Object types by name: how an object is rebuilt from the state its ID
 * carries. The core types are registered here; a session can extend the
 * registry with types of its own (module objects) without touching the core.
 *
 *   const types = coreObjectTypes.extend();
 *   types.register("MyModObject", (z) => z.strictObject({…}), (state) => new ModObject(state));
 *   const obj = types.load(id, "MyModObject");
 */
import type * as Z from "zod";
import { InvalidArgumentError } from "../errors.js";
import { type Zod, zod } from "../util/zod.js";
import { decodeId, type Identified } from "./ids.js";
import { describeIssues } from "./op-specs.js";

interface ObjectType {
  /** The schema of the state an ID carries, built on first use (see util/zod.ts). */
  readonly schema: (z: Zod) => Z.ZodType<unknown>;
  readonly build: (state: never) => Identified;
  built?: Z.ZodType<unknown>;
}

export class ObjectTypes {
  readonly #types = new Map<string, ObjectType>();
  constructor(private readonly parent?: ObjectTypes) {}

  register<S>(typename: string, schema: (z: Zod) => Z.ZodType<S>, build: (state: S) => Identified): void {
    if (this.get(typename)) throw new Error(`object type ${typename} is registered twice`);
    this.#types.set(typename, { schema, build: build as (state: never) => Identified });
  }

  get(typename: string): ObjectType | undefined {
    return this.#types.get(typename) ?? this.parent?.get(typename);
  }

  /** A registry with every type of this one, and room for more. */
  extend(): ObjectTypes {
    return new ObjectTypes(this);
  }

  /** The object an ID names, checked to be a `want` when given. */
  load(id: string, want?: string): Identified {
    const { typename, state } = decodeId(id);
    if (want !== undefined && typename !== want) throw new InvalidArgumentError(`ID is a ${typename}, expected a ${want}`);
    const type = this.get(typename);
    if (!type) throw new InvalidArgumentError(`ID of unknown type "${typename}"`);
    type.built ??= type.schema(zod());
    const parsed = type.built.safeParse(state);
    if (!parsed.success) throw new InvalidArgumentError(`invalid ${typename} ID: ${describeIssues(parsed.error)}`);
    return type.build(parsed.data as never);
  }
}
