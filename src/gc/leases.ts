/**
 * Leases: the snapshots each open session has used. The garbage collector
 * never removes a leased snapshot, so a running pipeline's inputs and results
 * stay put until its session ends. Leasing is synchronous, in the same step
 * as the cache lookup that produced the name, so a collection can never slip
 * in between.
 */
export class Leases {
  readonly #bySession = new Map<string, Set<string>>();

  lease(session: string, snapshot: string): void {
    let set = this.#bySession.get(session);
    if (!set) this.#bySession.set(session, (set = new Set()));
    set.add(snapshot);
  }

  releaseSession(session: string): void {
    this.#bySession.delete(session);
  }

  isLeased(snapshot: string): boolean {
    for (const set of this.#bySession.values()) if (set.has(snapshot)) return true;
    return false;
  }
}
