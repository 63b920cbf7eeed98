/** What an exec printed: kept (bounded, secrets masked) for its result, and streamed as progress. */
import type { SolveContext, Vertex } from "../solver/types.js";
import type { ExecResultMeta } from "./exec-types.js";
import { StreamScrubber, scrub } from "./scrub.js";

/** Per stream, what a result keeps of an exec's output (the tail). */
const MAX_OUTPUT = 16 << 20;

/** Collects a process's output and forwards it as progress log events. */
export class OutputCollector {
  readonly #chunks: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  readonly #sizes: Record<1 | 2, number> = { 1: 0, 2: 0 };
  readonly #combined: Buffer[] = [];
  readonly #live: Record<1 | 2, StreamScrubber>;
  constructor(
    private readonly v: Vertex,
    private readonly ctx: SolveContext,
    private readonly secrets: string[],
  ) {
    this.#live = { 1: new StreamScrubber(secrets), 2: new StreamScrubber(secrets) };
  }

  add(stream: 1 | 2, chunk: Buffer): void {
    this.#chunks[stream].push(chunk);
    this.#combined.push(chunk);
    this.#sizes[stream] += chunk.length;
    while (this.#sizes[stream] > MAX_OUTPUT && this.#chunks[stream].length > 1) {
      this.#sizes[stream] -= this.#chunks[stream].shift()!.length;
    }
    const data = this.#live[stream].push(chunk.toString("utf8"));
    if (data) this.ctx.progress?.({ type: "log", vertex: this.v.digest, stream, data });
  }

  /** The output, with every secret value masked: this is what gets cached and shown. */
  finish(): Omit<ExecResultMeta, "exitCode" | "mounts"> {
    for (const stream of [1, 2] as const) {
      const data = this.#live[stream].flush();
      if (data) this.ctx.progress?.({ type: "log", vertex: this.v.digest, stream, data });
    }
    return {
      stdout: scrub(Buffer.concat(this.#chunks[1]).toString("utf8"), this.secrets),
      stderr: scrub(Buffer.concat(this.#chunks[2]).toString("utf8"), this.secrets),
      combined: scrub(Buffer.concat(this.#combined).toString("utf8"), this.secrets).slice(-2 * MAX_OUTPUT),
    };
  }
}
