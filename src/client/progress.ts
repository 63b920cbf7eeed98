/**
 * Progress views of a session's spans, on stderr:
 * - `tty`: a live tree redrawn in place (progress-tty.ts);
 * - `plain`: one stable line per event, for CI logs — `#N name` when a step
 *   starts, `#N 1.2 text` for its output (seconds since it started),
 *   `#N DONE 0.4s`, `#N CACHED`, `#N ERROR 0.4s: message` — optionally
 *   prefixed with a timestamp;
 * - `dots`: a dot per finished step, `x` per failed one;
 * - `auto`: the tree on a terminal (not `TERM=dumb`), plain otherwise.
 * API calls are printed only once something runs under them (or they fail),
 * so calls that merely build recipes stay quiet.
 */
import { InvalidArgumentError } from "../errors.js";
import type { ProgressEvent } from "../http/session-protocol.js";
import { type SpanNode, SpanTree, seconds, summarize } from "./progress-tree.js";
import { TtyProgress } from "./progress-tty.js";

export interface ProgressView {
  event(e: ProgressEvent): void;
  /**
   * For a view that redraws in place: output of the program `tanto run`
   * runs, printed above the live area so a redraw never erases it.
   * Undefined when the program may write to the terminal itself.
   */
  readonly passThrough?: (stream: NodeJS.WriteStream, data: Buffer) => void;
  /** For a view that redraws in place: stop drawing (an interactive terminal has the screen); returns the way to go on. */
  suspend?(): () => void;
  /** Draws what is left and a summary. */
  close(): void;
}

export const PROGRESS_MODES = ["auto", "tty", "plain", "dots"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
}

export function parseProgressMode(value: string | undefined): ProgressMode {
  const v = value ?? "auto";
  if ((PROGRESS_MODES as readonly string[]).includes(v)) return v as ProgressMode;
  throw new InvalidArgumentError(`--progress must be one of ${PROGRESS_MODES.join(", ")}, not ${JSON.stringify(v)}`);
}

export function progressView(mode: ProgressMode, out: ProgressOutput, opts: { timestamps?: boolean; env?: NodeJS.ProcessEnv } = {}): ProgressView {
  const env = opts.env ?? process.env;
  const terminal = out.isTTY === true && env["TERM"] !== "dumb";
  if ((mode === "auto" || mode === "tty") && terminal) return new TtyProgress(out);
  if (mode === "dots") return new DotsProgress(out);
  return new PlainProgress((line) => out.write(line), opts.timestamps === true);
}

export class PlainProgress implements ProgressView {
  readonly #tree = new SpanTree();
  readonly #numbers = new Map<string, number>();
  readonly #printedOutput = new Set<string>();
  /** Output lines printed so far, per span (counting lines dropped from its buffer). */
  readonly #printed = new Map<string, number>();
  readonly #started = Date.now();

  constructor(
    private readonly write: (line: string) => void,
    private readonly timestamps = false,
  ) {}

  event(e: ProgressEvent): void {
    if (e.type === "message") return this.#line(`• ${e.text}`);
    const node = this.#tree.apply(e);
    if (!node) return;
    if (e.type === "log") {
      if (!this.#numbers.has(node.id)) this.#announce(node);
      // Whole lines only: the last, unfinished one waits for its end.
      const total = node.lines.length + node.droppedLines;
      const fresh = total - (this.#printed.get(node.id) ?? 0);
      if (fresh > 0) {
        const at = ((Date.now() - node.seenAt) / 1000).toFixed(3);
        for (const l of node.lines.slice(-fresh)) this.#line(`#${this.#numbers.get(node.id)} ${at} ${l}`);
        this.#printed.set(node.id, total);
        this.#printedOutput.add(node.id);
      }
      return;
    }
    if (e.type === "start") {
      if (node.kind !== "call") this.#announce(node);
      return;
    }
    if (node.kind === "call" && e.type === "done" && !this.#numbers.has(node.id)) return;
    this.#announce(node);
    const n = this.#numbers.get(node.id);
    if (e.type === "done") this.#line(e.cached ? `#${n} CACHED` : `#${n} DONE ${seconds(e.durationMs)}`);
    else if (e.type === "error") {
      if (node.partial) this.#line(`#${n} ${node.partial}`);
      if (!this.#printedOutput.has(node.id)) for (const l of node.lines) this.#line(`#${n} ${l}`);
      this.#line(`#${n} ERROR ${seconds(e.durationMs)}: ${e.message}`);
    }
  }

  /** Numbers a span (and its unprinted ancestors, first) and prints its name. */
  #announce(node: SpanNode): void {
    if (this.#numbers.has(node.id)) return;
    const parent = node.parent ? this.#tree.get(node.parent) : undefined;
    if (parent) this.#announce(parent);
    const n = this.#numbers.size + 1;
    this.#numbers.set(node.id, n);
    this.#line(`#${n} ${node.name}`);
  }

  #line(text: string): void {
    const line = `${this.timestamps ? `${new Date().toISOString()} ` : ""}${text}\n`;
    if (this.#held) this.#held.push(line);
    else this.write(line);
  }

  /** Lines printed while an interactive terminal has the screen, held until it ends. */
  #held: string[] | undefined;

  suspend(): () => void {
    if (this.#held) return () => undefined;
    this.#held = [];
    return () => {
      const held = this.#held ?? [];
      this.#held = undefined;
      for (const line of held) this.write(line);
    };
  }

  close(): void {
    const s = summarize(this.#tree);
    if (s.run + s.cached + s.failed === 0) return;
    this.#line(`${s.failed > 0 ? "✘" : "✔"} ${s.run} run, ${s.cached} cached, ${s.failed} failed in ${seconds(Date.now() - this.#started)}`);
  }
}

export class DotsProgress implements ProgressView {
  readonly #tree = new SpanTree();
  #wrote = false;
  constructor(private readonly out: ProgressOutput) {}

  event(e: ProgressEvent): void {
    if (e.type === "message") return;
    const node = this.#tree.apply(e);
    if (!node || node.kind === "call" || (e.type !== "done" && e.type !== "error")) return;
    this.out.write(e.type === "error" ? "x" : ".");
    this.#wrote = true;
  }

  close(): void {
    if (this.#wrote) this.out.write("\n");
    for (const n of this.#tree.nodes) {
      if (n.status === "error" && n.kind !== "call") this.out.write(`✘ ${n.name}: ${n.message ?? "failed"}\n`);
    }
  }
}
