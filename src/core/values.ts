/**
 * The small immutable values of the core API besides Container: a Directory
 * or File is a path inside the output of a vertex; a CacheVolume is a key.
 */

import type { Vertex } from "../solver/types.js";

export class Directory {
  readonly typename = "Directory";
  /** `source` undefined is the empty directory. */
  constructor(
    readonly source: Vertex | undefined,
    readonly path: string,
  ) {}
  toJSON(): unknown {
    return { source: this.source, path: this.path };
  }
}

export class File {
  readonly typename = "File";
  constructor(
    readonly source: Vertex | undefined,
    readonly path: string,
  ) {}
  toJSON(): unknown {
    return { source: this.source, path: this.path };
  }
}

/** Defaults a cache volume gives the mounts of it (each overridable by `withMountedCache`). */
export interface CacheVolumeDefaults {
  /** The directory a new volume starts with. */
  source?: Directory;
  sharing?: "SHARED" | "PRIVATE" | "LOCKED";
  /** user[:group] of a new volume's contents. */
  owner?: string;
}

export class CacheVolume {
  readonly typename = "CacheVolume";
  constructor(
    readonly key: string,
    readonly defaults: CacheVolumeDefaults = {},
  ) {}
  toJSON(): unknown {
    const { source, sharing, owner } = this.defaults;
    return { key: this.key, ...(source ? { source: source.toJSON() } : {}), ...(sharing ? { sharing } : {}), ...(owner ? { owner } : {}) };
  }
}

/** A name/value pair: EnvVariable and Label share this shape. */
export class NamedValue {
  constructor(
    readonly typename: "EnvVariable" | "Label",
    readonly name: string,
    readonly value: string,
  ) {}
  toJSON(): unknown {
    return { name: this.name, value: this.value };
  }
}

export class Port {
  readonly typename = "Port";
  constructor(
    readonly port: number,
    readonly protocol: "TCP" | "UDP",
    readonly description: string | undefined,
    readonly experimentalSkipHealthcheck: boolean,
  ) {}
  toJSON(): unknown {
    return { port: this.port, protocol: this.protocol, description: this.description, experimentalSkipHealthcheck: this.experimentalSkipHealthcheck };
  }
}

export type FileType = "REGULAR" | "DIRECTORY" | "SYMLINK" | "UNKNOWN";

export class Stat {
  readonly typename = "Stat";
  constructor(
    readonly name: string,
    readonly fileType: FileType,
    readonly permissions: number,
    readonly size: number,
  ) {}
  toJSON(): unknown {
    return { name: this.name, fileType: this.fileType, permissions: this.permissions, size: this.size };
  }
}

/** The root object (Query.id): it holds no state, so every session's root has one ID. */
export class QueryRoot {
  readonly typename = "Query";
  toJSON(): unknown {
    return {};
  }
}
