/**
 * The collection order, as a pure function: least recently used first,
 * across every kind, stopping as soon as usage is within the target.
 *
 * Some candidates hold others: a snapshot holds its parent (a parent goes
 * only after its children), a snapshot holds the blob of its layer. A held
 * candidate joins the queue, at its own last use, once everything holding
 * it has gone; one held by something that stays (a leased child) never does.
 * Garbage (blobs nothing references, once free) goes whenever a pass runs:
 * keeping it saves nothing.
 */

export interface Candidate<T = unknown> {
  id: string;
  size: number;
  lastUsed: number;
  /** How many holders must go first (including holders that are not candidates). */
  holders: number;
  /** Whether it may go at all (false: leased or in use; it still holds what it holds). */
  removable: boolean;
  /** Ids of candidates it holds. */
  holds: readonly string[];
  /** Worth nothing once free (a blob nothing references): a pass takes it even within the target. */
  garbage?: boolean;
  /** Whatever the caller needs to remove it. */
  item: T;
}

/** The candidates to remove, in order, to bring `usage` down to `target`. */
export function chooseVictims<T>(candidates: readonly Candidate<T>[], usage: number, target: number): Candidate<T>[] {
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const holders = new Map(candidates.map((c) => [c.id, c.holders]));
  const queue: Candidate<T>[] = candidates.filter((c) => c.removable && c.holders === 0).sort(byLastUse);
  const victims: Candidate<T>[] = [];
  let garbage = queue.filter((q) => q.garbage).length;
  while (queue.length > 0 && (usage > target || garbage > 0)) {
    const next = usage > target ? 0 : queue.findIndex((q) => q.garbage);
    const c = queue.splice(next, 1)[0]!;
    if (c.garbage) garbage--;
    victims.push(c);
    usage -= c.size;
    for (const id of c.holds) {
      const left = (holders.get(id) ?? 1) - 1;
      holders.set(id, left);
      const held = byId.get(id);
      if (left === 0 && held?.removable) {
        insertSorted(queue, held);
        if (held.garbage) garbage++;
      }
    }
  }
  return giveBack(victims, byId, usage, target);
}

/**
 * Least recently used first can overshoot: when a big, recently used entry
 * (a cache volume) had to go anyway, the older results removed before it
 * were not needed. Going back from the last victim, keep any that still fit
 * under the target, together with the victims it holds (a kept snapshot keeps
 * its parent and its layer's blob). Garbage alone is never kept.
 */
function giveBack<T>(victims: Candidate<T>[], byId: Map<string, Candidate<T>>, usage: number, target: number): Candidate<T>[] {
  const chosen = new Set(victims.map((v) => v.id));
  for (let i = victims.length - 1; i >= 0; i--) {
    const v = victims[i]!;
    if (v.garbage || !chosen.has(v.id)) continue;
    const closure = new Set<Candidate<T>>();
    const stack = [v];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (!chosen.has(x.id) || closure.has(x)) continue;
      closure.add(x);
      for (const id of x.holds) {
        const held = byId.get(id);
        if (held) stack.push(held);
      }
    }
    const cost = [...closure].reduce((a, x) => a + x.size, 0);
    if (usage + cost > target) continue;
    usage += cost;
    for (const x of closure) chosen.delete(x.id);
  }
  return victims.filter((v) => chosen.has(v.id));
}

function byLastUse(a: Candidate, b: Candidate): number {
  return a.lastUsed - b.lastUsed || a.id.localeCompare(b.id);
}

function insertSorted<T>(queue: Candidate<T>[], c: Candidate<T>): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byLastUse(queue[mid]!, c) <= 0) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, c);
}
