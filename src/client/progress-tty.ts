/**
 * The live tree on a terminal. Running steps show a spinner and their
 * elapsed time, with the last lines of a running command's output under
 * them; finished ones show `CACHED` or their duration. When an API call and
 * everything under it has ended, its tree is printed for good above the live
 * area (with the full output of any failed step) and leaves the redraw, so
 * the live area stays small. Each frame is one write: cursor back to the top
 * of the previous frame, clear below, the new frame — inside the terminal's
 * synchronized-update brackets, within its width and height.
 */
import type { ProgressEvent } from "../http/session-protocol.js";
import type { ProgressOutput, ProgressView } from "./progress.js";
import { outputOf, type SpanNode, SpanTree, seconds, summarize } from "./progress-tree.js";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const TAIL_LINES = 6;
const FRAME_MS = 100;
const ESC = "\x1b[";
const COLOR = { running: "33", done: "32", cached: "36", error: "31", dim: "2" } as const;

interface Row {
  indent: number;
  mark: string;
  color: string;
  text: string;
  suffix: string;
  /** Finished, not failed: dropped first when the frame is too tall. */
  minor: boolean;
}

export class TtyProgress implements ProgressView {
  readonly #tree = new SpanTree();
  readonly #started = Date.now();
  #drawnLines = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;
  #messages: string[] = [];
  /** The program's output waiting for the next frame, per stream: whole lines, and an unfinished one. */
  readonly #external = new Map<NodeJS.WriteStream, { ready: string; partial: string }>();
  #closed = false;
  #suspended = false;

  constructor(private readonly out: ProgressOutput) {
    this.out.write(`${ESC}?25l`);
  }

  readonly passThrough = (stream: NodeJS.WriteStream, data: Buffer): void => {
    if (this.#closed) return void stream.write(data);
    const buf = this.#external.get(stream) ?? { ready: "", partial: "" };
    const text = buf.partial + data.toString("utf8");
    const nl = text.lastIndexOf("\n");
    buf.ready += text.slice(0, nl + 1);
    buf.partial = text.slice(nl + 1);
    this.#external.set(stream, buf);
    if (buf.ready) this.#schedule(10);
  };

  event(e: ProgressEvent): void {
    if (this.#closed) return;
    if (e.type === "message") this.#messages.push(`• ${e.text}`);
    else this.#tree.apply(e);
    this.#schedule();
  }

  #schedule(delay = FRAME_MS): void {
    if (this.#timer || this.#suspended) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
      // Keep spinners and clocks moving while something runs.
      if ([...this.#tree.nodes].some((n) => n.status === "running")) this.#schedule();
    }, delay);
    this.#timer.unref();
  }

  #draw(final = false): void {
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    const height = Math.max(3, (this.out.rows ?? 24) - 1);
    let permanent = this.#messages.map((m) => `${clip(m, width)}\n`).join("");
    this.#messages = [];
    for (const root of [...this.#tree.roots]) {
      if (!final && !this.#tree.settled(root)) continue;
      permanent += this.#rows(root, 0, false)
        .map((r) => render(r, width))
        .join("");
      this.#tree.drop(root);
    }
    // The program's own output goes above, for good, through the same stream as the frame.
    for (const [stream, buf] of this.#external) {
      const text = buf.ready + (final ? buf.partial : "");
      buf.ready = "";
      if (final) buf.partial = "";
      if (!text) continue;
      if (stream === this.out) permanent += text.endsWith("\n") ? text : `${text}\n`;
      else {
        // Another stream: erase the frame first, so the text lands below what stays.
        this.#erase();
        stream.write(text);
      }
    }
    const live = final
      ? []
      : fit(
          this.#tree.roots.flatMap((r) => this.#rows(r, 0, true)),
          height,
        );
    let text = `${ESC}?2026h`;
    if (this.#drawnLines > 0) text += `\r${ESC}${this.#drawnLines}A`;
    // Overwrite in place, each line cleared to its end, and clear what is left below: a clear
    // of the whole screen first would flash, and tmux would push the old frame into its history.
    const body = `${permanent}${live.map((r) => render(r, width)).join("")}${final ? this.#summary(width) : ""}`;
    text += body.replaceAll("\n", `${ESC}K\n`);
    if (body !== "" || this.#drawnLines > 0) text += `${ESC}J`;
    text += `${ESC}?2026l`;
    this.#drawnLines = live.length;
    this.#frame++;
    this.out.write(text);
  }

  #erase(): void {
    if (this.#drawnLines === 0) return;
    // Each line blanked, not a clear from the top (see #draw).
    this.out.write(`\r${ESC}${this.#drawnLines}A${`${ESC}2K\n`.repeat(this.#drawnLines)}\r${ESC}${this.#drawnLines}A`);
    this.#drawnLines = 0;
  }

  #rows(node: SpanNode, indent: number, liveView: boolean): Row[] {
    // A call with nothing under it built a recipe only: not worth a row.
    if (node.kind === "call" && node.children.length === 0 && node.status !== "error" && node.status !== "running") return [];
    if (node.kind === "call" && node.children.length === 0 && node.status === "running" && liveView && Date.now() - node.seenAt < 500) return [];
    const elapsed = node.status === "running" ? Date.now() - node.seenAt : node.durationMs;
    const mark = node.status === "running" ? SPINNER[this.#frame % SPINNER.length]! : node.status === "error" ? "✘" : node.status === "cached" ? "●" : "✔";
    const suffix = node.status === "cached" ? "CACHED" : node.status === "error" ? `ERROR ${seconds(elapsed)}` : seconds(elapsed);
    const rows: Row[] = [{ indent, mark, color: COLOR[node.status], text: node.name, suffix, minor: node.status === "done" || node.status === "cached" }];
    const output = outputOf(node);
    if (node.status === "error") {
      if (node.droppedLines > 0) rows.push(line(indent + 1, `… ${node.droppedLines} earlier lines`));
      for (const l of output) rows.push(line(indent + 1, l));
      if (node.message && node.kind !== "call") rows.push({ ...line(indent + 1, node.message), color: COLOR.error });
    } else if (node.status === "running" && liveView) {
      for (const l of output.slice(-TAIL_LINES)) rows.push(line(indent + 1, l));
    }
    for (const c of node.children) rows.push(...this.#rows(c, indent + 1, liveView));
    return rows;
  }

  #summary(width: number): string {
    const s = summarize(this.#tree);
    if (s.run + s.cached + s.failed === 0) return "";
    const mark = s.failed > 0 ? `${ESC}${COLOR.error}m✘${ESC}0m` : `${ESC}${COLOR.done}m✔${ESC}0m`;
    return `${mark} ${clip(`${s.run} run, ${s.cached} cached, ${s.failed} failed in ${seconds(Date.now() - this.#started)}`, width - 2)}\n`;
  }

  suspend(): () => void {
    if (this.#closed || this.#suspended) return () => undefined;
    this.#suspended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#erase();
    this.out.write(`${ESC}?25h`);
    return () => {
      if (!this.#suspended) return;
      this.#suspended = false;
      if (this.#closed) return;
      this.out.write(`${ESC}?25l`);
      this.#schedule(0);
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#suspended = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Every root, finished or not, is printed for good; then the summary.
    this.#draw(true);
    this.#closed = true;
    this.out.write(`${ESC}?25h`);
  }
}

function line(indent: number, text: string): Row {
  return { indent, mark: "│", color: COLOR.dim, text, suffix: "", minor: false };
}

/** The frame within `height` rows: finished steps go first, then the oldest rows. */
function fit(rows: Row[], height: number): Row[] {
  if (rows.length <= height) return rows;
  let kept = rows.filter((r) => !r.minor || r.indent === 0);
  if (kept.length <= height) return kept;
  const hidden = kept.length - (height - 1);
  kept = kept.slice(hidden);
  return [{ indent: 0, mark: "…", color: COLOR.dim, text: `${hidden} more rows`, suffix: "", minor: false }, ...kept];
}

function render(r: Row, width: number): string {
  const lead = "  ".repeat(r.indent);
  const suffix = r.suffix ? ` ${r.suffix}` : "";
  // Control characters in output would move the cursor and break the frame.
  const body = clip(`${lead}  ${printable(r.text)}`, width - suffix.length);
  const shown = `${lead}${r.mark}${body.slice(lead.length + 1)}`;
  return `${ESC}${r.color}m${shown.slice(0, lead.length + 1)}${ESC}0m${shown.slice(lead.length + 1)}${r.suffix ? ` ${ESC}${r.color}m${r.suffix}${ESC}0m` : ""}\n`;
}

function printable(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c === 0x7f ? " " : ch;
  }
  return out;
}

function clip(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}
