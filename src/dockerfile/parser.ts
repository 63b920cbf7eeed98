/**
 * Dockerfile parsing, pure: text in, instructions (with the line each starts
 * on) out, grouped into the global ARGs and the stages. Values that Docker
 * expands with ARG/ENV variables stay raw here (quotes included); the build
 * expands them with `expandWord` (expand.ts) once it knows the variables at that point.
 *
 *   const df = parseDockerfile(text, "Dockerfile");
 *   df.stages[0].from.image            // "${BASE}"
 *   expandWord(df.stages[0].from.image, (n) => args.get(n), df.escapeChar)
 *
 * What a build cannot honour is refused here, with the line:
 * `Dockerfile:7: unsupported flag --mount for RUN`.
 */

import { InvalidArgumentError } from "../errors.js";
import { expandWord } from "./expand.js";
import { type Heredoc, type HeredocFile, type HeredocScript, heredocRun, heredocSources, heredocsOpened, heredocWord, readHeredocs } from "./heredoc.js";
import { parseRunMount, type RunMount, takeRunMounts } from "./run-mounts.js";

export type { HeredocFile, HeredocScript };

/** Exec form (`["a", "b"]`) or shell form (text for the SHELL). */
export type Command = { form: "exec"; args: string[] } | { form: "shell"; text: string };

export interface KeyValue {
  key: string;
  /** Raw: quotes and `$VAR`s still in. */
  value: string;
}

interface At {
  /** 1-based line the instruction starts on. */
  line: number;
}

export type Instruction = At &
  (
    | { kind: "FROM"; image: string; stageName?: string; platform?: string }
    | { kind: "RUN"; command: Command; mounts?: RunMount[]; script?: HeredocScript }
    | {
        kind: "COPY" | "ADD";
        sources: string[];
        dest: string;
        from?: string;
        chown?: string;
        chmod?: string;
        /** Heredoc sources (`COPY <<EOF /dest`): files made from the Dockerfile's text, named by their delimiter. */
        contents?: HeredocFile[];
      }
    | { kind: "ENV" | "LABEL"; pairs: KeyValue[] }
    | { kind: "ARG"; args: Array<{ name: string; default?: string }> }
    | { kind: "WORKDIR" | "USER" | "STOPSIGNAL"; value: string }
    | { kind: "ENTRYPOINT" | "CMD"; command: Command }
    | { kind: "SHELL"; args: string[] }
    | { kind: "EXPOSE" | "VOLUME"; values: string[] }
    | { kind: "HEALTHCHECK"; text: string }
  );

/** The instruction shape for kind K (ENV and LABEL share one, as do COPY and ADD). */
export type InstructionOf<K extends Instruction["kind"]> = Instruction extends infer I
  ? I extends { kind: infer IK }
    ? K extends IK
      ? I
      : never
    : never
  : never;

export interface Stage {
  index: number;
  from: InstructionOf<"FROM">;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Name used in error messages (the Dockerfile's path). */
  name: string;
  /** The escape character: `\` unless the `# escape=` directive says `` ` ``. */
  escapeChar: string;
  /** A `# syntax=` directive: another frontend, which a build here does not fetch (it warns). */
  syntax?: string;
  /** ARGs before the first FROM: the only variables FROM lines see. */
  globalArgs: InstructionOf<"ARG">[];
  stages: Stage[];
}

/** Flags each instruction accepts; anything else is refused by name. */
const FLAGS: Readonly<Record<string, readonly string[]>> = {
  FROM: ["platform"],
  COPY: ["from", "chown", "chmod"],
  ADD: ["chown", "chmod"],
};

/** Instructions known to Docker that a build here cannot honour. */
const UNSUPPORTED = new Set(["ONBUILD"]);

const KNOWN = new Set([
  "FROM",
  "RUN",
  "CMD",
  "ENTRYPOINT",
  "SHELL",
  "COPY",
  "ADD",
  "ENV",
  "LABEL",
  "MAINTAINER",
  "ARG",
  "WORKDIR",
  "USER",
  "STOPSIGNAL",
  "EXPOSE",
  "VOLUME",
  "HEALTHCHECK",
]);

/** A raw instruction: its name, the text after it, and where it starts. */
interface Line {
  line: number;
  name: string;
  rest: string;
  /** Bodies of the heredocs its RUN/COPY/ADD words open. */
  heredocs: Heredoc[];
}

/** Instructions whose words may open heredocs. */
const HEREDOC_INSTRUCTIONS = new Set(["RUN", "COPY", "ADD"]);

export function parseDockerfile(text: string, name = "Dockerfile"): Dockerfile {
  const fail = (line: number, message: string): never => {
    throw new InvalidArgumentError(`${name}:${line}: ${message}`);
  };
  const { escapeChar, syntax, lines } = splitLines(text, fail);
  const globalArgs: InstructionOf<"ARG">[] = [];
  const stages: Stage[] = [];
  for (const raw of lines) {
    const instr = parseInstruction(raw, escapeChar, fail);
    if (instr.kind === "FROM") {
      stages.push({ index: stages.length, from: instr, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage) stage.instructions.push(instr);
    else if (instr.kind === "ARG") globalArgs.push(instr);
    else fail(raw.line, `${instr.kind} before FROM: a Dockerfile must start with FROM (only ARG may come before it)`);
  }
  if (stages.length === 0) throw new InvalidArgumentError(`${name}: no FROM instruction: the Dockerfile has no build stage`);
  return { name, escapeChar, ...(syntax !== undefined ? { syntax } : {}), globalArgs, stages };
}

/**
 * Parser directives, comments and line continuations: each instruction as
 * one logical line. Directives (`# escape=`, `# syntax=`) count only before
 * anything else; comment lines and empty lines inside a continuation are
 * dropped, as Docker does; the next line's indentation is kept.
 */
function splitLines(text: string, fail: (line: number, message: string) => never): { escapeChar: string; syntax?: string; lines: Line[] } {
  const physical = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let escapeChar = "\\";
  let syntax: string | undefined;
  let i = 0;
  const seen = new Set<string>();
  for (; i < physical.length; i++) {
    const m = /^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$/.exec(physical[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (seen.has(key)) fail(i + 1, `parser directive "${key}" set twice`);
    seen.add(key);
    if (key === "escape") {
      if (m[2] !== "\\" && m[2] !== "`") fail(i + 1, `invalid escape directive "${m[2]}": want \\ or \``);
      escapeChar = m[2]!;
    } else if (key === "syntax") syntax = m[2]!;
  }
  const continuation = new RegExp(`${escapeRegExp(escapeChar)}[ \\t]*$`);
  const isComment = (l: string): boolean => /^[ \t]*#/.test(l);
  const lines: Line[] = [];
  while (i < physical.length) {
    const start = i;
    let text = physical[i++]!.replace(/^[ \t]+/, "");
    if (text === "" || isComment(text)) continue;
    while (continuation.test(text)) {
      text = text.replace(continuation, "");
      // Comments and empty lines inside a continuation are skipped; the instruction goes on.
      while (i < physical.length && (isComment(physical[i]!) || physical[i]!.trim() === "")) i++;
      if (i >= physical.length) break;
      text += physical[i++]!;
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(text.trim())!;
    const name = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    const opened = HEREDOC_INSTRUCTIONS.has(name) ? heredocsOpened(rest) : [];
    const read = readHeredocs(opened, physical, i);
    if ("unterminated" in read) return fail(start + 1, `unterminated heredoc <<${read.unterminated} in ${name}: no line "${read.unterminated}" ends it`);
    i = read.next;
    lines.push({ line: start + 1, name, rest, heredocs: read.heredocs });
  }
  return { escapeChar, ...(syntax !== undefined ? { syntax } : {}), lines };
}

function parseInstruction(raw: Line, escapeChar: string, fail: (line: number, message: string) => never): Instruction {
  const { line, name } = raw;
  if (UNSUPPORTED.has(name)) fail(line, `unsupported instruction ${name}`);
  if (!KNOWN.has(name)) fail(line, `unknown instruction ${name}`);
  // Only instructions that take flags look for them: `CMD --help` is a command.
  const allowed = FLAGS[name] ?? [];
  const runMounts = name === "RUN" ? takeRunMounts(raw.rest) : { specs: [], rest: raw.rest };
  const { flags, rest } = name in FLAGS || name === "RUN" ? takeFlags(runMounts.rest) : { flags: new Map<string, string | true>(), rest: raw.rest };
  for (const flag of flags.keys()) if (!allowed.includes(flag)) fail(line, `unsupported flag --${flag} for ${name}`);
  const flag = (key: string): string | undefined => {
    const v = flags.get(key);
    return v === true ? fail(line, `flag --${key} for ${name} needs a value (--${key}=…)`) : v;
  };
  const needArgs = (): void => {
    if (rest === "") fail(line, `${name} needs arguments`);
  };
  switch (name) {
    case "FROM": {
      needArgs();
      const words = rest.split(/\s+/);
      if (words.length !== 1 && !(words.length === 3 && words[1]!.toUpperCase() === "AS")) {
        fail(line, `FROM takes an image and an optional "AS name", not "${rest}"`);
      }
      const stageName = words[2]?.toLowerCase();
      if (stageName !== undefined && !/^[a-z][a-z0-9._-]*$/.test(stageName)) fail(line, `invalid stage name "${words[2]}"`);
      const platform = flag("platform");
      return { line, kind: "FROM", image: words[0]!, ...(stageName ? { stageName } : {}), ...(platform !== undefined ? { platform } : {}) };
    }
    case "RUN": {
      needArgs();
      const mounts = runMounts.specs.map((spec) => {
        const m = parseRunMount(spec);
        return typeof m === "string" ? fail(line, m) : m;
      });
      const withMounts = mounts.length ? { mounts } : {};
      if (raw.heredocs.length > 0 && !rest.startsWith("[")) {
        const run = heredocRun(rest, raw.heredocs);
        if ("script" in run) return { line, kind: "RUN", command: { form: "exec", args: [] }, script: run.script, ...withMounts };
        return { line, kind: "RUN", command: { form: "shell", text: run.text }, ...withMounts };
      }
      return { line, kind: "RUN", command: commandOf(rest, name, line, fail), ...withMounts };
    }
    case "CMD":
    case "ENTRYPOINT":
      needArgs();
      return { line, kind: name, command: commandOf(rest, name, line, fail) };
    case "SHELL": {
      const command = commandOf(rest, name, line, fail);
      if (command.form !== "exec" || command.args.length === 0) fail(line, `SHELL needs a JSON array, like ["/bin/sh", "-c"]`);
      return { line, kind: "SHELL", args: (command as { args: string[] }).args };
    }
    case "COPY":
    case "ADD": {
      needArgs();
      const words = listOf(rest, name, line, fail);
      if (words.length < 2) fail(line, `${name} needs at least one source and a destination`);
      if (heredocWord(words[words.length - 1]!)) fail(line, `${name} takes a heredoc as a source, not as the destination`);
      const { sources, contents } = heredocSources(words.slice(0, -1), raw.heredocs);
      if (name === "ADD") {
        for (const src of sources) {
          if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src) || src.startsWith("git@"))
            fail(line, `unsupported source "${src}" for ADD: only files from the build context can be added`);
        }
      }
      const from = flag("from");
      const chown = flag("chown");
      const chmod = flag("chmod");
      return {
        line,
        kind: name,
        sources,
        dest: words[words.length - 1]!,
        ...(contents.length ? { contents } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(chown !== undefined ? { chown } : {}),
        ...(chmod !== undefined ? { chmod } : {}),
      };
    }
    case "ENV":
    case "LABEL":
      needArgs();
      return { line, kind: name, pairs: keyValues(rest, name, escapeChar, line, fail) };
    case "MAINTAINER":
      needArgs();
      // Deprecated spelling of a label.
      return { line, kind: "LABEL", pairs: [{ key: "maintainer", value: JSON.stringify(rest) }] };
    case "ARG": {
      needArgs();
      const args = splitQuoted(rest, escapeChar, line, fail).map((word) => {
        const eq = word.indexOf("=");
        const argName = eq < 0 ? word : word.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(argName)) fail(line, `invalid ARG name "${argName}"`);
        return eq < 0 ? { name: argName } : { name: argName, default: word.slice(eq + 1) };
      });
      return { line, kind: "ARG", args };
    }
    case "WORKDIR":
    case "USER":
    case "STOPSIGNAL":
      needArgs();
      return { line, kind: name, value: rest };
    case "EXPOSE":
      needArgs();
      return { line, kind: "EXPOSE", values: rest.split(/\s+/) };
    case "VOLUME":
      needArgs();
      return { line, kind: "VOLUME", values: listOf(rest, name, line, fail) };
    case "HEALTHCHECK":
      needArgs();
      return { line, kind: "HEALTHCHECK", text: rest };
    default:
      return fail(line, `unknown instruction ${name}`);
  }
}

/** Leading `--name=value` / `--name` words. */
function takeFlags(text: string): { flags: Map<string, string | true>; rest: string } {
  const flags = new Map<string, string | true>();
  let rest = text;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    flags.set(m[1]!.toLowerCase(), m[2] ?? true);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** A JSON array of strings, or undefined when `text` is not JSON (so shell form). */
function jsonList(text: string, name: string, line: number, fail: (line: number, message: string) => never): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== "string")) fail(line, `${name} in JSON form needs an array of strings`);
  return parsed as string[];
}

function commandOf(text: string, name: string, line: number, fail: (line: number, message: string) => never): Command {
  const args = jsonList(text, name, line, fail);
  if (args) return { form: "exec", args };
  return { form: "shell", text };
}

/** COPY/ADD/VOLUME arguments: a JSON array, or words split on whitespace. */
function listOf(text: string, name: string, line: number, fail: (line: number, message: string) => never): string[] {
  const list = jsonList(text, name, line, fail);
  if (list) return list;
  return text.split(/\s+/).filter((w) => w !== "");
}

/**
 * ENV/LABEL: `k=v k2="v 2"`, or the legacy `k value with spaces` when the
 * first word has no `=`.
 */
function keyValues(text: string, name: string, escapeChar: string, line: number, fail: (line: number, message: string) => never): KeyValue[] {
  const first = /^\S+/.exec(text)![0];
  if (!first.includes("=")) {
    const value = text.slice(first.length).trim();
    if (value === "") fail(line, `${name} ${first} needs a value: ${name} ${first}=value or ${name} ${first} value`);
    return [{ key: first, value }];
  }
  return splitQuoted(text, escapeChar, line, fail).map((word) => {
    const eq = word.indexOf("=");
    if (eq <= 0) fail(line, `${name} needs name=value pairs, not "${word}"`);
    return { key: expandWord(word.slice(0, eq), () => undefined, escapeChar), value: word.slice(eq + 1) };
  });
}

/** Split on whitespace outside quotes, keeping quotes and escapes in the words. */
function splitQuoted(text: string, escapeChar: string, line: number, fail: (line: number, message: string) => never): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "" && /\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    word += ch;
    if (ch === escapeChar && quote !== "'" && i + 1 < text.length) word += text[++i];
    else if (quote === "" && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = "";
  }
  if (quote !== "") fail(line, `unterminated ${quote === '"' ? "double" : "single"} quote in "${text}"`);
  if (inWord) words.push(word);
  return words;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
