/** A counting semaphore for bounding how many ops run at once. */
export class Semaphore {
  #available: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#available = size;
  }

  async acquire(signal?: AbortSignal): Promise<Disposable> {
    if (this.#available > 0) {
      this.#available--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = (): void => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = this.#waiting.indexOf(grant);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiting.push(grant);
      });
    }
    let released = false;
    return {
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        const next = this.#waiting.shift();
        if (next) next();
        else this.#available++;
      },
    };
  }
}
