/**
 * Include/exclude patterns for copying trees (Dagger's `include`/`exclude`,
 * .dockerignore semantics): a pattern matches a path or any of its parent
 * directories; `**` spans directories; a leading `!` re-includes; the last
 * matching pattern wins.
 */
import { globToRegExp } from "./glob.js";

interface Rule {
  re: RegExp;
  negate: boolean;
}

function compile(patterns: readonly string[]): Rule[] {
  return patterns
    .map((p) => p.trim())
    .filter((p) => p !== "" && !p.startsWith("#"))
    .map((p) => {
      const negate = p.startsWith("!");
      const body = (negate ? p.slice(1) : p).replace(/^\/+/, "").replace(/^\.\//, "").replace(/\/+$/, "");
      return { re: globToRegExp(body), negate };
    });
}

/** Whether `rel` (or one of its parents) matches, by the last rule that matches. */
function matches(rules: Rule[], rel: string): boolean {
  let matched = false;
  const parts = rel.split("/");
  for (const rule of rules) {
    for (let i = 1; i <= parts.length; i++) {
      if (rule.re.test(parts.slice(0, i).join("/"))) {
        matched = !rule.negate;
        break;
      }
    }
  }
  return matched;
}

export class PathFilter {
  readonly #include: Rule[];
  readonly #exclude: Rule[];

  constructor(opts: { include?: readonly string[]; exclude?: readonly string[] } = {}) {
    this.#include = compile(opts.include ?? []);
    this.#exclude = compile(opts.exclude ?? []);
  }

  get isEmpty(): boolean {
    return this.#include.length === 0 && this.#exclude.length === 0;
  }

  /** Whether a file (or a whole directory) at `rel` is selected. */
  selects(rel: string): boolean {
    if (this.#include.length > 0 && !matches(this.#include, rel)) return false;
    return !matches(this.#exclude, rel);
  }

  /**
   * Whether walking into directory `rel` may find selected paths. With
   * include patterns, a directory that is not itself included is still walked
   * (its children may be); an excluded directory is skipped unless a negated
   * exclude pattern could re-include something inside it.
   */
  mayDescend(rel: string): boolean {
    if (matches(this.#exclude, rel) && !this.#exclude.some((r) => r.negate)) return false;
    return true;
  }
}
