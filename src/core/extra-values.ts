/**
 * Small value objects of the core API that hold plain data: search results,
 * changesets and their diff statistics, JSON values, env files and errors.
 * Each is registered as an object type (with the schema of its ID state) by
 * `registerExtraTypes`, which core-objects.ts calls on the core registry.
 */

import { lazySchemas } from "../util/zod.js";
import { Address } from "./addresses.js";
import { EngineCache, EngineCacheEntry, EngineCacheEntrySet, EngineObject } from "./engine-cache.js";
import type { ObjectTypes } from "./object-types.js";
import { specSchemas } from "./op-specs.js";
import { Directory } from "./values.js";

export class SearchSubmatch {
  readonly typename = "SearchSubmatch";
  constructor(
    readonly text: string,
    readonly start: number,
    readonly end: number,
  ) {}
  toJSON(): unknown {
    return { text: this.text, start: this.start, end: this.end };
  }
}

export class SearchResult {
  readonly typename = "SearchResult";
  constructor(
    readonly filePath: string,
    readonly lineNumber: number,
    readonly absoluteOffset: number,
    readonly matchedLines: string,
    readonly submatches: readonly SearchSubmatch[],
  ) {}
  toJSON(): unknown {
    const { filePath, lineNumber, absoluteOffset, matchedLines } = this;
    return { filePath, lineNumber, absoluteOffset, matchedLines, submatches: this.submatches.map((s) => s.toJSON()) };
  }
}

/** Two directories compared: `after` against `before`. */
export class Changeset {
  readonly typename = "Changeset";
  constructor(
    readonly before: Directory,
    readonly after: Directory,
  ) {}
  toJSON(): unknown {
    return { before: this.before.toJSON(), after: this.after.toJSON() };
  }
}

export type DiffStatKind = "ADDED" | "MODIFIED" | "REMOVED" | "RENAMED";

export class DiffStat {
  readonly typename = "DiffStat";
  constructor(
    readonly path: string,
    readonly kind: DiffStatKind,
    readonly addedLines: number,
    readonly removedLines: number,
    readonly oldPath: string | undefined,
  ) {}
  toJSON(): unknown {
    return { path: this.path, kind: this.kind, addedLines: this.addedLines, removedLines: this.removedLines, oldPath: this.oldPath };
  }
}

/** A JSON document (kept as its canonical text). */
export class JSONValue {
  readonly typename = "JSONValue";
  constructor(readonly json: string) {}
  get value(): unknown {
    return JSON.parse(this.json);
  }
  static of(value: unknown): JSONValue {
    return new JSONValue(JSON.stringify(value ?? null));
  }
  toJSON(): unknown {
    return { json: this.json };
  }
}

/** An env file: ordered NAME=value pairs; `expand` expands $VAR references when read. */
export class EnvFile {
  readonly typename = "EnvFile";
  constructor(
    readonly vars: readonly (readonly [string, string])[],
    readonly expand: boolean,
  ) {}
  toJSON(): unknown {
    return { vars: this.vars, expand: this.expand };
  }
}

export class ErrorObject {
  readonly typename = "Error";
  constructor(
    readonly message: string,
    readonly values: readonly (readonly [string, string])[],
  ) {}
  toJSON(): unknown {
    return { message: this.message, values: this.values };
  }
}

export class ErrorValue {
  readonly typename = "ErrorValue";
  constructor(
    readonly name: string,
    /** The value as JSON text. */
    readonly value: string,
  ) {}
  toJSON(): unknown {
    return { name: this.name, value: this.value };
  }
}

/** A unix socket on a client's machine (Host.unixSocket), reached through that client's session. */
export class Socket {
  readonly typename = "Socket";
  constructor(
    readonly client: string,
    readonly path: string,
  ) {}
  toJSON(): unknown {
    return { client: this.client, path: this.path };
  }
}

/** Parts shared by several state schemas, built on first use (see util/zod.ts). */
const p = lazySchemas((z) => {
  const str = z.string();
  const int = z.number().int();
  const pair = z.tuple([str, str]);
  const fsRef = z.strictObject({ source: specSchemas().vertexRef.optional(), path: str.refine((p) => p.startsWith("/"), "must be absolute") });
  const jsonText = str.refine((s) => {
    try {
      JSON.parse(s);
      return true;
    } catch {
      return false;
    }
  }, "must be JSON");
  const submatch = z.strictObject({ text: str, start: int.nonnegative(), end: int.nonnegative() });
  return { str, int, pair, fsRef, jsonText, submatch };
});

export function registerExtraTypes(types: ObjectTypes): void {
  types.register(
    "Address",
    (z) => z.strictObject({ value: p().str.min(1) }),
    (s) => new Address(s.value),
  );
  types.register(
    "Engine",
    (z) => z.strictObject({}),
    () => new EngineObject(),
  );
  types.register(
    "EngineCache",
    (z) => z.strictObject({}),
    () => new EngineCache(),
  );
  types.register(
    "EngineCacheEntrySet",
    (z) => z.strictObject({ key: p().str }),
    (s) => new EngineCacheEntrySet(s.key),
  );
  types.register(
    "EngineCacheEntry",
    (z) =>
      z.strictObject({
        description: p().str,
        recordType: p().str,
        diskSpaceBytes: p().int.nonnegative(),
        activelyUsed: z.boolean(),
        mostRecentUseTimeUnixNano: z.number().nonnegative(),
      }),
    (s) => new EngineCacheEntry(s.description, s.recordType, s.diskSpaceBytes, s.activelyUsed, s.mostRecentUseTimeUnixNano),
  );
  types.register(
    "Socket",
    (z) => z.strictObject({ client: p().str.min(1), path: p().str.min(1) }),
    (s) => new Socket(s.client, s.path),
  );
  types.register(
    "SearchSubmatch",
    () => p().submatch,
    (s) => new SearchSubmatch(s.text, s.start, s.end),
  );
  types.register(
    "SearchResult",
    (z) =>
      z.strictObject({
        filePath: p().str,
        lineNumber: p().int.nonnegative(),
        absoluteOffset: p().int.nonnegative(),
        matchedLines: p().str,
        submatches: z.array(p().submatch),
      }),
    (s) =>
      new SearchResult(
        s.filePath,
        s.lineNumber,
        s.absoluteOffset,
        s.matchedLines,
        s.submatches.map((m) => new SearchSubmatch(m.text, m.start, m.end)),
      ),
  );
  types.register(
    "Changeset",
    (z) => z.strictObject({ before: p().fsRef, after: p().fsRef }),
    (s) => new Changeset(new Directory(s.before.source, s.before.path), new Directory(s.after.source, s.after.path)),
  );
  types.register(
    "DiffStat",
    (z) =>
      z.strictObject({
        path: p().str,
        kind: z.enum(["ADDED", "MODIFIED", "REMOVED", "RENAMED"]),
        addedLines: p().int.nonnegative(),
        removedLines: p().int.nonnegative(),
        oldPath: p().str.optional(),
      }),
    (s) => new DiffStat(s.path, s.kind, s.addedLines, s.removedLines, s.oldPath),
  );
  types.register(
    "JSONValue",
    (z) => z.strictObject({ json: p().jsonText }),
    (s) => new JSONValue(s.json),
  );
  types.register(
    "EnvFile",
    (z) => z.strictObject({ vars: z.array(p().pair), expand: z.boolean() }),
    (s) => new EnvFile(s.vars, s.expand),
  );
  types.register(
    "Error",
    (z) => z.strictObject({ message: p().str, values: z.array(p().pair) }),
    (s) => new ErrorObject(s.message, s.values),
  );
  types.register(
    "ErrorValue",
    (z) => z.strictObject({ name: p().str, value: p().jsonText }),
    (s) => new ErrorValue(s.name, s.value),
  );
}
