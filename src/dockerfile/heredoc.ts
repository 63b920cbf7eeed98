/**
 * Heredocs in RUN, COPY and ADD, as BuildKit's Dockerfile frontend reads
 * them: a word `<<NAME` (`<<-NAME` strips leading tabs, a quoted name
 * `<<"NAME"` or `<<'NAME'` turns off variable expansion) on an
 * instruction's line takes the lines after it, up to a line that is NAME,
 * as its content. Several heredocs on one line take their bodies in order.
 *
 *   const docs = heredocsOpened("cat <<-EOF > /f");           // [{ name: "EOF", chomp: true, expand: true }]
 *   chompTabs("\tline\n")                                       // "line\n"
 */
import type { Lookup } from "./expand.js";
import { expandWord } from "./expand.js";

export interface HeredocWord {
  /** The delimiter, quotes removed: the line that ends the body and, for COPY, the file's name. */
  name: string;
  /** `<<-`: leading tabs are stripped from the body (and the end line may be indented with tabs). */
  chomp: boolean;
  /** False when the delimiter was quoted: the body is taken as it is. */
  expand: boolean;
}

export interface Heredoc extends HeredocWord {
  /** The body as written, each line with its newline, tabs not yet stripped. */
  data: string;
}

/** A RUN that is one heredoc starting with `#!`: the body runs as a script file of that name. */
export interface HeredocScript {
  name: string;
  data: string;
}

/** A heredoc source of COPY/ADD: its body (tabs already stripped for `<<-`), expanded at build time unless quoted. */
export interface HeredocFile {
  name: string;
  data: string;
  expand: boolean;
}

/** The heredoc that `word` opens, or undefined: `<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`. */
export function heredocWord(word: string): HeredocWord | undefined {
  const m = /^\d*<<(-?)([^<]+)$/.exec(word);
  if (!m) return undefined;
  const raw = m[2]!;
  const name = raw.replace(/["']/g, "");
  if (name === "" || /\s/.test(name)) return undefined;
  return { name, chomp: m[1] === "-", expand: name === raw };
}

/**
 * The heredocs opened by an instruction's text, in order: its words split
 * on whitespace outside quotes (quotes kept, so `'<<EOF'` opens none). An
 * unbalanced quote is the shell's business, not an error here.
 */
export function heredocsOpened(text: string): HeredocWord[] {
  if (!text.includes("<<")) return [];
  const words: string[] = [];
  let word = "";
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "" && /\s/.test(ch)) {
      if (word !== "") words.push(word);
      word = "";
      continue;
    }
    word += ch;
    if (ch === "\\" && quote !== "'" && i + 1 < text.length) word += text[++i];
    else if (quote === "" && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = "";
  }
  if (word !== "") words.push(word);
  return words.flatMap((w) => heredocWord(w) ?? []);
}

/**
 * Read the bodies of `docs` from `lines` starting at index `start`; returns
 * them and the index after the last end line, or the heredoc left open.
 */
export function readHeredocs(
  docs: readonly HeredocWord[],
  lines: readonly string[],
  start: number,
): { heredocs: Heredoc[]; next: number } | { unterminated: string } {
  const heredocs: Heredoc[] = [];
  let i = start;
  for (const doc of docs) {
    let data = "";
    let ended = false;
    while (i < lines.length) {
      const line = lines[i++]!;
      if ((doc.chomp ? line.replace(/^\t+/, "") : line) === doc.name) {
        ended = true;
        break;
      }
      data += `${line}\n`;
    }
    if (!ended) return { unterminated: doc.name };
    heredocs.push({ ...doc, data });
  }
  return { heredocs, next: i };
}

/** `<<-`: leading tabs off every line. */
export function chompTabs(text: string): string {
  return text.replace(/^\t+/gm, "");
}

/** A body as the instruction uses it: tabs stripped for `<<-`. */
export function bodyOf(doc: Heredoc): string {
  return doc.chomp ? chompTabs(doc.data) : doc.data;
}

/**
 * A COPY heredoc's content with ARG/ENV variables expanded (unless its
 * delimiter was quoted). Only variables are expanded: quotes and escapes in
 * the text stay as they are, as BuildKit keeps them.
 */
export function expandBody(text: string, expand: boolean, lookup: Lookup, escapeChar: string): string {
  if (!expand) return text;
  const literal = new Set(['"', "'", "\\", escapeChar]);
  let escaped = "";
  for (const ch of text) escaped += literal.has(ch) ? `${escapeChar}${ch}` : ch;
  return expandWord(escaped, lookup, escapeChar);
}

/**
 * What a RUN with heredocs runs, as BuildKit does: a command that is just
 * one heredoc runs its body (as a script file when it starts with `#!`,
 * else with the shell); otherwise the shell gets the command with the
 * bodies after it and handles the heredocs itself.
 */
export function heredocRun(command: string, heredocs: readonly Heredoc[]): { text: string } | { script: HeredocScript } {
  const only = heredocs.length === 1 ? heredocWord(command) : undefined;
  if (only) {
    const body = bodyOf(heredocs[0]!);
    return body.startsWith("#!") ? { script: { name: only.name, data: body } } : { text: body };
  }
  return { text: [command, ...heredocs.map((h) => `${h.data}${h.name}`)].join("\n") };
}

/** COPY/ADD sources: the paths, and the heredocs among them as files. */
export function heredocSources(words: readonly string[], heredocs: readonly Heredoc[]): { sources: string[]; contents: HeredocFile[] } {
  const sources: string[] = [];
  const contents: HeredocFile[] = [];
  for (const word of words) {
    const open = heredocWord(word);
    const doc = open && heredocs.find((h) => h.name === open.name);
    if (doc) contents.push({ name: doc.name, data: bodyOf(doc), expand: doc.expand });
    else sources.push(word);
  }
  return { sources, contents };
}
