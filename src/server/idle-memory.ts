/**
 * Memory handed back when the engine goes idle.
 *
 * Under load V8 grows its young generation to the largest size it allows
 * (two 16 MB semi-spaces) and the old generation fills with garbage that only
 * a full collection frees; on an idle process nothing triggers one for a
 * long while, so an engine that served a burst of sessions kept ~30 MB it no
 * longer used (measured: 131 MB RSS after 20 s idle, 100 MB after two full
 * collections; the live heap was the same 21 MB as at start). So once the
 * last session has ended and none came for half a second, the engine runs two
 * full collections (the second returns the pages the first freed) — a few
 * tens of milliseconds when nothing waits on it — and then hands glibc's
 * freed but still resident pages back (malloc-trim.ts: 30–50 MB after the
 * bench's pulls, syncs and publishes).
 *
 * V8 shrinks the young generation only in a collection that finds the
 * allocation rate low, and it reckons that rate over its last ten
 * collections (or the last 5 s): right after a burst the burst is still in
 * that window, so a collection then keeps the 32 MB (measured: the young
 * generation shrank by itself only 7–10 s after a burst). So while the
 * young generation is large, the engine first runs a dozen young-generation
 * collections 40 ms apart — each well under a millisecond on an idle heap —
 * which push the burst out of V8's window, and then the full ones, which
 * shrink it: ~32 MB less RSS about 1 s after the last session, not 10.
 * Should the young generation still be large (the engine was not quite
 * idle), it tries again every few seconds, a few times at most.
 */
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { Logger } from "./log.js";
import { mallocTrim } from "./malloc-trim.js";

type Collect = (opts?: { type?: "major" | "minor" }) => void;

let fullGc: Collect | undefined;

/** V8's collections, exposed to a private context only (no `gc` global for anything else to call). */
function collector(): Collect {
  if (fullGc) return fullGc;
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (typeof exposed === "function") return (fullGc = exposed);
  v8.setFlagsFromString("--expose-gc");
  fullGc = vm.runInNewContext("gc") as Collect;
  v8.setFlagsFromString("--no-expose-gc");
  return fullGc;
}

export class IdleMemory {
  #timer: NodeJS.Timeout | undefined;
  #pending = false;
  #followUps = 0;
  #closed = false;

  constructor(
    private readonly opts: {
      /** Whether work is under way (sessions open, a GC pass): then the collection waits. */
      busy: () => boolean;
      log: Logger;
      /** How long the engine must stay idle first. */
      delayMs?: number;
    },
  ) {}

  /** Work may just have ended: collect once the engine has stayed idle for a moment. */
  poke(): void {
    this.#pending = true;
    this.#arm();
  }

  /** Something just finished that left garbage of its own (a GC pass): a pending collection waits for it. */
  defer(): void {
    if (this.#pending) this.#arm();
  }

  #arm(delayMs = this.opts.delayMs ?? IDLE_DELAY_MS): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#followUps = 0;
    this.#timer = setTimeout(() => this.#collect(), delayMs).unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /** Whether a collection under way must stop: closed, or work came. */
  #interrupted(): boolean {
    return this.#closed || this.#pending || this.opts.busy();
  }

  #collect(): void {
    if (this.#closed) return;
    if (!this.#pending) return;
    // Still working (a session came, a GC pass runs): try again once it may be over.
    if (this.opts.busy()) return this.#arm();
    this.#pending = false;
    this.#run("idle: memory collected", 0);
  }

  /** The young-generation collections first while it is large (see above), then the full ones. */
  #run(what: string, followUp: number): void {
    if (youngGenerationBytes() <= SMALL_YOUNG_GENERATION) return this.#full(what, followUp);
    let left = YOUNG_COLLECTIONS;
    const step = (): void => {
      if (this.#interrupted()) return;
      collector()({ type: "minor" });
      if (--left > 0) this.#timer = setTimeout(step, YOUNG_COLLECTION_GAP_MS).unref();
      else this.#full(what, followUp);
    };
    this.#timer = setTimeout(step, YOUNG_COLLECTION_GAP_MS).unref();
  }

  #full(what: string, followUp: number): void {
    const started = performance.now();
    const before = process.memoryUsage.rss();
    const gc = collector();
    gc();
    gc();
    const trimmed = this.#trim();
    const after = process.memoryUsage();
    this.opts.log.debug(what, {
      rss_before: before,
      rss_after: after.rss,
      heap_used: after.heapUsed,
      heap_total: after.heapTotal,
      external: after.external,
      array_buffers: after.arrayBuffers,
      young_generation: youngGenerationBytes(),
      malloc_trimmed: trimmed,
      ...(followUp > 0 ? { follow_up: followUp } : {}),
      ms: Math.round(performance.now() - started),
    });
    this.#followUp();
  }

  #trimWarned = false;

  /** What glibc's arenas hold freed back to the system (see malloc-trim.ts); warns once when it cannot. */
  #trim(): boolean {
    const trimmed = mallocTrim();
    if (!(trimmed instanceof Error)) return trimmed;
    if (!this.#trimWarned) this.opts.log.warn("idle: freed memory stays with the process", { error: trimmed.message });
    this.#trimWarned = true;
    return false;
  }

  /** Try again while idle, until the young generation is back to its small size. */
  #followUp(): void {
    if (this.#interrupted()) return;
    if (youngGenerationBytes() <= SMALL_YOUNG_GENERATION || this.#followUps >= MAX_FOLLOW_UPS) return;
    const n = ++this.#followUps;
    this.#timer = setTimeout(() => {
      if (!this.#interrupted()) this.#run("idle: collected again", n);
    }, FOLLOW_UP_MS).unref();
  }
}

/** How long the engine stays idle (no session, no GC pass) before it collects. */
const IDLE_DELAY_MS = 500;
/** A young generation at most this big is left alone (V8 starts at 1–2 MB; its largest is 32 MB). */
const SMALL_YOUNG_GENERATION = 8 * 1024 * 1024;
/** V8 reckons the allocation rate over its last 10 collections: a few more push a burst out. */
const YOUNG_COLLECTIONS = 12;
const YOUNG_COLLECTION_GAP_MS = 40;
const FOLLOW_UP_MS = 3_000;
const MAX_FOLLOW_UPS = 4;

function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
}
