/**
 * A parallelism slot held by one running op. The op gives it back while it
 * waits for something that is not its own work (services to come up, nested
 * solves) and takes one again before going on, so an op waiting on work that
 * itself needs a slot can never starve it (max-parallelism = 1 included).
 *
 *   const held = await HeldSlot.take(slots, signal);
 *   await held.outside(() => services.bind(...), signal);   // slot free meanwhile
 *   held.finish();                                           // op done: slot back for good
 */
import type { Semaphore } from "../util/semaphore.js";

export class HeldSlot {
  #slot: Disposable | undefined;
  #suspended = 0;
  #finished = false;

  private constructor(
    private readonly slots: Semaphore,
    slot: Disposable,
  ) {
    this.#slot = slot;
  }

  static async take(slots: Semaphore, signal?: AbortSignal): Promise<HeldSlot> {
    return new HeldSlot(slots, await slots.acquire(signal));
  }

  /** Whether the op holds its slot right now. */
  get held(): boolean {
    return this.#slot !== undefined;
  }

  /** Run `work` with the slot given back; take a slot again before returning. */
  async outside<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#finished) return work();
    this.#suspended++;
    this.#release();
    try {
      return await work();
    } finally {
      this.#suspended--;
      if (this.#suspended === 0 && !this.#finished) {
        const slot = await this.slots.acquire(signal);
        // Another wait may have begun (or the op ended) while this one queued.
        if (this.#suspended > 0 || this.#finished || this.#slot) slot[Symbol.dispose]();
        else this.#slot = slot;
      }
    }
  }

  /** The op is over: give the slot back and ignore later waits. */
  finish(): void {
    this.#finished = true;
    this.#release();
  }

  #release(): void {
    this.#slot?.[Symbol.dispose]();
    this.#slot = undefined;
  }
}
