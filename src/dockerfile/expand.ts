/**
 * Docker's word processing, pure: variables (`$VAR`, `${VAR:-default}` and
 * friends), quotes and the escape character, as the build applies them to
 * a parsed instruction's raw values once it knows the variables at that
 * point (ARG and ENV).
 *
 *   expandWord('"${BASE:-alpine}":3', (n) => vars.get(n))   // "alpine:3"
 *   expandWords("a $LIST b", (n) => vars.get(n))             // splits $LIST too
 */
import { InvalidArgumentError } from "../errors.js";

/** Variables as the build sees them at one point: undefined when unset. */
export type Lookup = (name: string) => string | undefined;

/**
 * One word with Docker's shell-like processing: `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
 * `${VAR:?message}`; single quotes literal, double quotes expanded, the
 * escape character taking the next one literally; quotes removed.
 */
export function expandWord(word: string, lookup: Lookup, escapeChar = "\\"): string {
  return new WordExpander(word, lookup, escapeChar).words(false).join("");
}

/**
 * Words separated by unquoted whitespace, as Docker's ProcessWords: an
 * unquoted variable's value is split into words too.
 */
export function expandWords(text: string, lookup: Lookup, escapeChar = "\\"): string[] {
  return new WordExpander(text, lookup, escapeChar).words(true);
}

class WordExpander {
  #pos = 0;
  constructor(
    readonly text: string,
    readonly lookup: Lookup,
    readonly escapeChar: string,
  ) {}

  /** Process until the end (or `stop`, consumed), splitting into words when `split`. */
  words(split: boolean, stop?: string): string[] {
    const words: string[] = [];
    let word = "";
    let inWord = false;
    const add = (s: string, splittable: boolean): void => {
      if (!split || !splittable) {
        word += s;
        inWord = true;
        return;
      }
      for (const ch of s) {
        if (/\s/.test(ch)) {
          if (inWord) words.push(word);
          word = "";
          inWord = false;
        } else {
          word += ch;
          inWord = true;
        }
      }
    };
    const { text, escapeChar } = this;
    let stopped = false;
    while (this.#pos < text.length) {
      const ch = text[this.#pos]!;
      if (stop !== undefined && ch === stop) {
        this.#pos++;
        stopped = true;
        break;
      }
      if (ch === "'") add(this.#single(), false);
      else if (ch === '"') add(this.#double(), false);
      else if (ch === "$") add(this.#dollar(), true);
      else {
        this.#pos++;
        if (ch === escapeChar) {
          if (this.#pos >= text.length) break;
          add(text[this.#pos++]!, false);
        } else add(ch, true);
      }
    }
    if (stop !== undefined && !stopped) throw new InvalidArgumentError(`unexpected end of "${text}" while looking for the matching "${stop}"`);
    if (inWord || !split) words.push(word);
    return words;
  }

  #single(): string {
    const end = this.text.indexOf("'", this.#pos + 1);
    if (end < 0) throw new InvalidArgumentError(`unexpected end of "${this.text}" while looking for the matching single quote`);
    const out = this.text.slice(this.#pos + 1, end);
    this.#pos = end + 1;
    return out;
  }

  #double(): string {
    const { text, escapeChar } = this;
    this.#pos++;
    let out = "";
    while (this.#pos < text.length) {
      const ch = text[this.#pos]!;
      if (ch === '"') {
        this.#pos++;
        return out;
      }
      if (ch === "$") {
        out += this.#dollar();
        continue;
      }
      this.#pos++;
      // Inside double quotes only ", $ and the escape character itself are escapable.
      const next = text[this.#pos];
      if (ch === escapeChar && (next === '"' || next === "$" || next === escapeChar)) {
        out += next;
        this.#pos++;
      } else out += ch;
    }
    throw new InvalidArgumentError(`unexpected end of "${text}" while looking for the matching double quote`);
  }

  #dollar(): string {
    const { text } = this;
    this.#pos++;
    if (text[this.#pos] !== "{") {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(this.#pos))?.[0];
      if (!name) return "$";
      this.#pos += name.length;
      return this.lookup(name) ?? "";
    }
    this.#pos++;
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(this.#pos))?.[0];
    if (!name) throw new InvalidArgumentError(`bad substitution in "${text}": want \${NAME}`);
    this.#pos += name.length;
    const value = this.lookup(name);
    if (text[this.#pos] === "}") {
      this.#pos++;
      return value ?? "";
    }
    const op = /^:?[-+?]/.exec(text.slice(this.#pos))?.[0];
    if (!op) throw new InvalidArgumentError(`unsupported substitution in "${text}" after \${${name}: want :-, -, :+, + or :?`);
    this.#pos += op.length;
    const word = this.words(false, "}").join("");
    // With the colon, empty counts as unset.
    const set = op.startsWith(":") ? value !== undefined && value !== "" : value !== undefined;
    switch (op.slice(-1)) {
      case "-":
        return set ? value! : word;
      case "+":
        return set ? word : "";
      default:
        if (!set) throw new InvalidArgumentError(`${name}: ${word || "is not set"}`);
        return value!;
    }
  }
}
