/**
 * zod, loaded on first use. Loading it costs ~80 ms of CPU and ~8 MB, and
 * only decoding an ID needs it; so schemas are built by functions of `z`
 * (memoised) rather than at import, and engine and CLI starts do not pay.
 * Every user goes through here, so there is one zod instance in the process.
 */
import { createRequire } from "node:module";
import type * as Z from "zod";

export type Zod = typeof Z;

let loaded: Zod | undefined;

export function zod(): Zod {
  loaded ??= createRequire(import.meta.url)("zod") as Zod;
  return loaded;
}

/** `build(z)` run once, on the first call of the returned function. */
export function lazySchemas<T>(build: (z: Zod) => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build(zod());
    return built;
  };
}
