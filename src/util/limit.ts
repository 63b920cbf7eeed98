/**
 * A bound on how much of one kind of work runs at once (downloads, layer
 * pulls, exports, services): `limit(work, signal)` waits for a place, runs
 * `work`, and gives the place back however it ends.
 *
 *   const downloads = limiter(4);
 *   await downloads(() => fetchBlob(...), signal);
 */
import { Semaphore } from "./semaphore.js";

export type Limit = <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

export function limiter(size: number): Limit {
  const places = new Semaphore(size);
  return async (work, signal) => {
    using _place = await places.acquire(signal);
    return await work();
  };
}

/** No bound at all (for components used without an engine, as in tests). */
export const unlimited: Limit = (work) => work();
