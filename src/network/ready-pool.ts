/**
 * A pool of items that are slow to make and quick to hand out (attached
 * network namespaces), in the manner of BuildKit's CNI pool: the pool owns
 * `size` items, ready or lent, and `acquire` takes a ready one at once (with
 * none ready it makes one on the spot). `release` checks an item in the
 * background and keeps it (up to `maxIdle` ready) or destroys it; the pool
 * makes new items only to replace those destroyed, never for items that are
 * lent and coming back: a burst of a hundred execs would otherwise make new
 * namespaces (a dozen CNI processes each) while it runs, for nothing.
 *
 * The refill makes one item at a time: the pool is there to take work off
 * the critical path, not to compete with it for the CPU. A failed refill is
 * reported and not retried until the next acquire, so a broken host does not
 * spin.
 */
import { CancelledError, FailedPreconditionError } from "../errors.js";

export interface ReadyPoolOptions<T> {
  /** Ready items to keep. */
  size: number;
  /** Ready items kept when more are released than taken; at least `size`. */
  maxIdle: number;
  create(): Promise<T>;
  destroy(item: T): Promise<void>;
  /** Make a returned item ready again; false (or a throw) destroys it. */
  recycle(item: T): Promise<boolean>;
  /** Background failures (refill, recycle, destroy): nobody awaits them. */
  onError(err: unknown, during: "refill" | "recycle" | "destroy"): void;
}

export class ReadyPool<T> {
  readonly #opts: ReadyPoolOptions<T>;
  readonly #ready: T[] = [];
  /** Items handed out and not yet back (a returned one counts until its check is done). */
  #lent = 0;
  /** Background work (refills, recycles, destroys, abandoned creations) that close() must wait for. */
  readonly #work = new Set<Promise<unknown>>();
  #refilling = false;
  #closed = false;

  constructor(opts: ReadyPoolOptions<T>) {
    this.#opts = { ...opts, maxIdle: Math.max(opts.maxIdle, opts.size) };
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  /** Put an item made elsewhere (the first one, made during start) into the pool. */
  add(item: T): void {
    if (this.#closed) this.#track(this.#destroy(item));
    else this.#ready.push(item);
  }

  /** Start filling up to `size` items (ready and lent) in the background. */
  fill(): void {
    if (this.#refilling || this.#closed || !this.#short()) return;
    this.#refilling = true;
    this.#track(
      (async () => {
        try {
          while (!this.#closed && this.#short()) {
            const item = await this.#opts.create();
            this.add(item);
          }
        } catch (err) {
          this.#opts.onError(err, "refill");
        } finally {
          this.#refilling = false;
        }
      })(),
    );
  }

  async acquire(opts: { signal?: AbortSignal } = {}): Promise<T> {
    if (this.#closed) throw new FailedPreconditionError("the namespace pool is closed");
    if (opts.signal?.aborted) throw new CancelledError("acquiring a network namespace cancelled", { cause: opts.signal.reason });
    const ready = this.#ready.shift();
    // The caller's item counts as lent from now on (one made here too: a refill does not make it twice).
    this.#lent++;
    if (ready !== undefined) return ready;
    // After the caller has its item: starting a refill spawns processes, which blocks the event loop for a few ms.
    setImmediate(() => this.fill());
    const creation = this.#opts.create();
    this.#track(creation);
    if (opts.signal === undefined) {
      try {
        return await creation;
      } catch (err) {
        this.#lent--;
        throw err;
      }
    }
    const signal = opts.signal;
    let abandoned = false;
    // An abandoned creation still finishes (half an attachment would be worse); its item joins the pool.
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        abandoned = true;
        this.#lent--;
        this.#track(
          creation.then(
            (item) => this.add(item),
            () => undefined,
          ),
        );
        reject(new CancelledError("acquiring a network namespace cancelled", { cause: signal.reason }));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      creation.then(
        (item) => {
          signal.removeEventListener("abort", onAbort);
          resolve(item);
        },
        (err: unknown) => {
          signal.removeEventListener("abort", onAbort);
          if (!abandoned) this.#lent--;
          reject(err);
        },
      );
    });
  }

  /** Take an item back: recycled into the pool in the background, or destroyed (and replaced) when `discard` or unclean. */
  release(item: T, opts: { discard?: boolean } = {}): void {
    this.#track(
      (async () => {
        let keep = false;
        if (!this.#closed && opts.discard !== true) {
          try {
            keep = await this.#opts.recycle(item);
          } catch (err) {
            this.#opts.onError(err, "recycle");
          }
        }
        this.#lent = Math.max(0, this.#lent - 1);
        if (keep && !this.#closed && this.#ready.length < this.#opts.maxIdle) {
          this.#ready.push(item);
          return;
        }
        await this.#destroy(item);
        this.fill();
      })(),
    );
  }

  /** Stop refilling, wait for background work, destroy every ready item. Items handed out are the caller's. */
  async close(): Promise<void> {
    const items = await this.drain();
    await Promise.all(items.map((i) => this.#destroy(i)));
  }

  /** As close(), but the ready items are handed back instead of destroyed (for a caller that removes them all at once). */
  async drain(): Promise<T[]> {
    this.#closed = true;
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
    return this.#ready.splice(0);
  }

  /** Fewer items than `size`, counting those lent. */
  #short(): boolean {
    return this.#ready.length + this.#lent < this.#opts.size;
  }

  async #destroy(item: T): Promise<void> {
    try {
      await this.#opts.destroy(item);
    } catch (err) {
      this.#opts.onError(err, "destroy");
    }
  }

  #track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined).finally(() => this.#work.delete(tracked));
    this.#work.add(tracked);
  }
}
