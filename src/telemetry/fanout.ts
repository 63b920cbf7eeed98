/**
 * One solve, many watchers: when several sessions wait on one in-flight
 * solve, each sees its spans in its own tree. The first caller's spans hang
 * under its parent span; a watcher that joins later gets the same events with
 * that parent replaced by its own, after a replay of what already started
 * and ended (logs are not replayed: they are the bulk).
 */
import type { SpanEvent, SpanSink } from "./types.js";

interface Watcher {
  readonly sink: SpanSink;
  readonly parent: string | undefined;
}

export class SpanFanout {
  readonly #watchers: Watcher[] = [];
  readonly #history: SpanEvent[] = [];
  readonly #origin: string | undefined;

  constructor(first: SpanSink | undefined, parent: string | undefined) {
    this.#origin = parent;
    if (first) this.#watchers.push({ sink: first, parent });
  }

  /** The sink the shared solve reports to. */
  readonly emit: SpanSink = (e) => {
    if (e.type !== "log" && e.type !== "message") this.#history.push(e);
    for (const w of this.#watchers) w.sink(this.#for(w, e));
  };

  join(sink: SpanSink | undefined, parent: string | undefined): void {
    if (!sink) return;
    // One call waiting twice on a vertex (rootfs and last exec are often one) sees it once.
    if (this.#watchers.some((w) => w.sink === sink || (parent !== undefined && w.parent === parent))) return;
    const w = { sink, parent };
    for (const e of this.#history) sink(this.#for(w, e));
    this.#watchers.push(w);
  }

  #for(w: Watcher, e: SpanEvent): SpanEvent {
    if (w.parent === this.#origin || e.type === "log" || e.type === "message" || e.parent !== this.#origin) return e;
    const { parent: _drop, ...rest } = e;
    return w.parent === undefined ? rest : { ...rest, parent: w.parent };
  }
}
