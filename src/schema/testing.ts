/**
 * A toy schema part and a request context for the schema's unit tests:
 * `Toy` objects with IDs of their own ("toy:NAME"), loaded by the part's
 * loader rather than the core's codec.
 */
import type { CoreDeps, RequestContext, Session } from "../core/types.js";
import { InvalidArgumentError } from "../errors.js";
import type { SchemaPart } from "./types.js";

export class Toy {
  readonly typename = "Toy";
  constructor(readonly name: string) {}
}

export const toyPart: SchemaPart = {
  name: "toy",
  sdl: /* GraphQL */ `
    "A toy, for tests."
    type Toy implements Node @sourceMap(module: "toys", filename: "toy.ts", line: 3, column: 1) @experimental(reason: "for tests") {
      id: ID!
      name: String!
      rename(name: String!, old: String @deprecated(reason: "use name")): Toy!
    }
    enum ToyKind {
      PLUSH @enumValue(value: "plush")
      WOOD
      TIN @deprecated(reason: "rusts")
    }
    extend type Query {
      toy(name: String!, kind: ToyKind = PLUSH, box: DirectoryID @defaultPath(path: "/toys")): Toy!
    }
  `,
  resolvers: {
    Toy: {
      id: (t: Toy) => `toy:${t.name}`,
      name: (t: Toy) => t.name,
      rename: (_: Toy, a: Record<string, unknown>) => new Toy(a["name"] as string),
    },
    Query: { toy: (_: unknown, a: Record<string, unknown>) => new Toy(a["name"] as string) },
  },
  loaders: {
    Toy: (id: string) => {
      if (!id.startsWith("toy:")) throw new InvalidArgumentError(`not a Toy ID: ${JSON.stringify(id)}`);
      return new Toy(id.slice(4));
    },
  },
};

/** A context for resolvers that touch neither the solver nor the client (stubs for what they do not use). */
export function pureContext(): RequestContext {
  const deps = { version: "0.1.0", defaultPlatform: "linux/amd64" } as unknown as CoreDeps;
  return { deps, session: {} as Session, signal: new AbortController().signal };
}
