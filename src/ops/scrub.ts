/**
 * Replacing secret values in output with `***`. Values may span lines, and
 * streamed output may split a value across chunks: the streaming scrubber
 * holds back the last (longest value − 1) characters until more arrive.
 */
const MASK = "***";

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a value containing another is masked whole.
  for (const s of [...secrets].filter((v) => v.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join(MASK);
  }
  return out;
}

export class StreamScrubber {
  #pending = "";
  readonly #hold: number;
  constructor(private readonly secrets: readonly string[]) {
    this.#hold = Math.max(0, ...secrets.map((s) => s.length)) - 1;
  }

  /** Scrubbed text that is safe to release now. */
  push(chunk: string): string {
    const text = scrub(this.#pending + chunk, this.secrets);
    if (this.#hold <= 0) {
      this.#pending = "";
      return text;
    }
    const cut = Math.max(0, text.length - this.#hold);
    this.#pending = text.slice(cut);
    return text.slice(0, cut);
  }

  flush(): string {
    const rest = scrub(this.#pending, this.secrets);
    this.#pending = "";
    return rest;
  }
}
