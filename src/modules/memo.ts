/**
 * Results kept across sessions for as long as the engine runs, the most
 * recently used `limit` of them: what a module's content determines (its
 * registered types, the introspection its code sees, generated bindings),
 * so that a repeated `tanto call` does not compute them again. A promise is
 * kept while pending (concurrent callers share it) and dropped if it fails.
 */
export class BoundedMemo<V> {
  readonly #entries = new Map<string, Promise<V>>();
  constructor(readonly limit: number) {}

  get(key: string, make: () => Promise<V>): Promise<V> {
    const have = this.#entries.get(key);
    if (have) {
      // Most recently used last.
      this.#entries.delete(key);
      this.#entries.set(key, have);
      return have;
    }
    const p = make();
    this.#entries.set(key, p);
    p.catch(() => {
      if (this.#entries.get(key) === p) this.#entries.delete(key);
    });
    while (this.#entries.size > this.limit) this.#entries.delete(this.#entries.keys().next().value!);
    return p;
  }

  get size(): number {
    return this.#entries.size;
  }
}
