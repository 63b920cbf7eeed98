/** Runs work one at a time per key; different keys run in parallel. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Whether work for `key` runs or waits now. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.#tails.set(key, next);
    void next
      .finally(() => {
        if (this.#tails.get(key) === next) this.#tails.delete(key);
      })
      .catch(() => undefined);
    return next;
  }
}
