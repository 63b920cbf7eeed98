/**
 * The client's picture of a session's spans: a tree built from the span
 * events the engine sends, for the progress views to draw. A span whose
 * parent the client never saw (the SDK's own span) is a root.
 */
import type { ProgressEvent } from "../http/session-protocol.js";

export type SpanStatus = "running" | "done" | "cached" | "error";

export interface SpanNode {
  readonly id: string;
  parent: string | undefined;
  name: string;
  kind: string;
  status: SpanStatus;
  /** Client clock when first seen. */
  readonly seenAt: number;
  durationMs: number;
  message?: string;
  readonly children: SpanNode[];
  /** Complete output lines (capped), and the unfinished last one. */
  readonly lines: string[];
  partial: string;
  droppedLines: number;
}

const MAX_LINES = 2000;

export class SpanTree {
  readonly #nodes = new Map<string, SpanNode>();
  readonly #byVertex = new Map<string, string>();
  readonly roots: SpanNode[] = [];

  get(id: string): SpanNode | undefined {
    return this.#nodes.get(id);
  }

  get nodes(): IterableIterator<SpanNode> {
    return this.#nodes.values();
  }

  /** Applies an event; returns the node it touched (none for messages). */
  apply(e: ProgressEvent, now = Date.now()): SpanNode | undefined {
    if (e.type === "message") return undefined;
    if (e.type === "log") {
      const id = e.span ?? (e.vertex ? this.#byVertex.get(e.vertex) : undefined);
      const node = id ? this.#nodes.get(id) : undefined;
      if (node) appendOutput(node, e.data);
      return node;
    }
    let node = this.#nodes.get(e.span);
    if (!node) {
      node = {
        id: e.span,
        parent: undefined,
        name: e.name,
        kind: e.kind ?? "op",
        status: "running",
        seenAt: now,
        durationMs: 0,
        children: [],
        lines: [],
        partial: "",
        droppedLines: 0,
      };
      this.#nodes.set(e.span, node);
      const parent = e.parent ? this.#nodes.get(e.parent) : undefined;
      if (parent) {
        node.parent = parent.id;
        parent.children.push(node);
      } else this.roots.push(node);
      if (e.vertex) this.#byVertex.set(e.vertex, e.span);
    }
    if (e.type === "done") {
      node.status = e.cached ? "cached" : "done";
      node.durationMs = e.durationMs;
    } else if (e.type === "error") {
      node.status = "error";
      node.durationMs = e.durationMs;
      node.message = e.message;
      if (node.lines.length === 0 && node.partial === "" && e.outputTail) appendOutput(node, e.outputTail + "\n");
    }
    return node;
  }

  /** Whether a span and everything under it has ended. */
  settled(node: SpanNode): boolean {
    return node.status !== "running" && node.children.every((c) => this.settled(c));
  }

  /** Removes a root (once it has been printed for good). */
  drop(node: SpanNode): void {
    const i = this.roots.indexOf(node);
    if (i >= 0) this.roots.splice(i, 1);
  }
}

function appendOutput(node: SpanNode, data: string): void {
  const parts = (node.partial + data).split(/\r?\n/);
  node.partial = parts.pop() ?? "";
  node.lines.push(...parts);
  if (node.lines.length > MAX_LINES) {
    const extra = node.lines.length - MAX_LINES;
    node.lines.splice(0, extra);
    node.droppedLines += extra;
  }
}

/** All output of a span, the unfinished last line included. */
export function outputOf(node: SpanNode): string[] {
  return node.partial ? [...node.lines, node.partial] : node.lines;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export interface Summary {
  run: number;
  cached: number;
  failed: number;
}

export function summarize(tree: SpanTree): Summary {
  const s = { run: 0, cached: 0, failed: 0 };
  for (const n of tree.nodes) {
    if (n.kind === "call") continue;
    if (n.status === "cached") s.cached++;
    else if (n.status === "error") s.failed++;
    else if (n.status === "done") s.run++;
  }
  return s;
}
