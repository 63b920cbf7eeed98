/**
 * A session's schema: the engine's core schema plus the parts the session
 * added (a module's types). Sessions without extensions share the core's
 * build (made on the first query any session sends: see `lazyCoreSchema`);
 * one with extensions builds its own once, on the first query after a change.
 */
import { parse } from "graphql";
import { InvalidArgumentError, messageOf } from "../errors.js";
import { type BuiltSchema, buildApiSchema } from "./build.js";
import type { SchemaPart } from "./types.js";

export class SessionSchema {
  readonly #core: () => BuiltSchema;
  #parts: readonly SchemaPart[] = [];
  #pending: readonly SchemaPart[] = [];
  #built: BuiltSchema | undefined;

  constructor(core: () => BuiltSchema) {
    this.#core = core;
  }

  /** The parts this session added, in order. */
  get extensions(): readonly SchemaPart[] {
    return [...this.#parts, ...this.#pending];
  }

  /**
   * Adds parts to the session's schema, from the next query on. Their SDL
   * is parsed now; the schema is built lazily, and parts that do not build
   * are dropped then (the error names them).
   */
  extend(...parts: SchemaPart[]): void {
    for (const part of parts) {
      try {
        parse(part.sdl, { noLocation: true });
      } catch (err) {
        throw new InvalidArgumentError(`schema part "${part.name}": ${messageOf(err)}`, { cause: err });
      }
    }
    this.#pending = [...this.#pending, ...parts];
  }

  /** The schema to run the next query against. */
  get current(): BuiltSchema {
    if (this.#pending.length === 0) return this.#built ?? this.#core();
    const pending = this.#pending;
    this.#pending = [];
    this.#built = buildApiSchema([...this.#core().parts, ...this.#parts, ...pending]);
    this.#parts = [...this.#parts, ...pending];
    return this.#built;
  }
}

/**
 * The engine's core schema (its own parts, trusted: see BuildOptions), built on
 * first use: graphql's schema objects cost ~3 MB and a good part of a start.
 */
export function lazyCoreSchema(parts: () => readonly SchemaPart[]): () => BuiltSchema {
  let built: BuiltSchema | undefined;
  return () => {
    built ??= buildApiSchema(parts(), { trusted: true });
    return built;
  };
}
