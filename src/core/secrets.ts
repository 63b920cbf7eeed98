/**
 * Secrets. A secret's plaintext lives only in engine memory, in the store of
 * the session that made it; what travels in IDs and recipes is its name and
 * a salted HMAC of the value. The HMAC goes into cache keys, so a changed
 * secret re-runs what uses it and an equal one hits the cache, without the
 * value ever being written down (the salt stays in the state directory).
 */
import { createHmac } from "node:crypto";
import { FailedPreconditionError } from "../errors.js";

export interface SecretRef {
  name: string;
  /** HMAC-SHA256(salt, plaintext), hex: the secret's part of cache keys, and its key in the session's store. */
  mac: string;
  uri?: string;
  /** Set by `secret(uri, cacheKey:)`: the HMAC is of this key, and recipes name the secret by it. */
  cacheKey?: string;
}

/** How recipes (ops) name a secret: by its cache key when it has one, so equal keys make equal recipes. */
export function opSecretKey(ref: SecretRef): { name: string; mac: string } {
  return { name: ref.cacheKey !== undefined ? `cacheKey:${ref.cacheKey}` : ref.name, mac: ref.mac };
}

export class Secret {
  readonly typename = "Secret";
  constructor(readonly ref: SecretRef) {}
  toJSON(): unknown {
    return this.ref;
  }
}

export class SecretStore {
  readonly #values = new Map<string, string>();
  constructor(private readonly salt: Buffer) {}

  /**
   * A secret of the session. With `cacheKey`, the HMAC is of that key instead
   * of the value: secrets with one cache key are equal for the cache, whatever
   * their values (as Dagger's `secret(uri, cacheKey:)`).
   */
  add(name: string, plaintext: string, uri?: string, cacheKey?: string): Secret {
    const hmac = createHmac("sha256", this.salt);
    const mac = (cacheKey === undefined ? hmac.update(plaintext) : hmac.update(`\0cacheKey\0${cacheKey}`)).digest("hex");
    this.#values.set(mac, plaintext);
    return new Secret({ name, mac, ...(uri ? { uri } : {}), ...(cacheKey !== undefined ? { cacheKey } : {}) });
  }

  plaintext(ref: { name: string; mac: string }): string {
    const value = this.#values.get(ref.mac);
    if (value === undefined) {
      throw new FailedPreconditionError(`secret "${ref.name}" is not available in this session: secrets live only in the session that set them`);
    }
    return value;
  }

  /** Every value held, for scrubbing output. */
  values(): string[] {
    return [...this.#values.values()];
  }

  clear(): void {
    this.#values.clear();
  }
}
