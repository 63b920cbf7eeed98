/**
 * Content digests. A `Digest` is a branded string `sha256:<64 hex>`; the only
 * ways to get one are hashing bytes or parsing (and so validating) a string.
 */
import { createHash, type Hash } from "node:crypto";
import { InvalidArgumentError } from "../errors.js";

export type Digest = string & { readonly __brand: "Digest" };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

export function parseDigest(value: string): Digest {
  if (!isDigest(value)) throw new InvalidArgumentError(`invalid digest "${value}": want sha256:<64 hex digits>`);
  return value;
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}` as Digest;
}

/** The hex part, as used in file names (`blobs/sha256/<hex>`). */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}

/** An incremental digester for streams. */
export class Digester {
  readonly #hash: Hash = createHash("sha256");
  #size = 0;
  #result: Digest | undefined;
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }
  get size(): number {
    return this.#size;
  }
  /** The digest of everything seen; asking again gives the same answer (nothing may be added after). */
  digest(): Digest {
    this.#result ??= `sha256:${this.#hash.digest("hex")}` as Digest;
    return this.#result;
  }
}

/**
 * An object may stand for a smaller value in canonical JSON (a vertex for
 * its digest): a method under this key returns it.
 */
export const CANONICAL: unique symbol = Symbol.for("tanto.canonical");

/**
 * A canonical JSON encoding (sorted keys, no whitespace, undefined dropped),
 * so that equal values always hash to equal digests.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === "object") {
    const stand = (value as { [CANONICAL]?: () => unknown })[CANONICAL];
    if (typeof stand === "function") return sortKeys(stand.call(value));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function digestOf(value: unknown): Digest {
  return sha256(canonicalJson(value));
}
