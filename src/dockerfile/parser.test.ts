import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expandWord, expandWords } from "./expand.js";
import { expandBody } from "./heredoc.js";
import { type Instruction, type InstructionOf, parseDockerfile } from "./parser.js";

/** Instructions of the only stage, FROM first. */
function instructions(text: string): Instruction[] {
  const df = parseDockerfile(text);
  return df.stages.flatMap((s) => [s.from, ...s.instructions]);
}

describe("parseDockerfile", () => {
  test("every instruction, with the line it starts on", () => {
    const text = [
      "# a comment",
      "ARG BASE=busybox",
      "FROM --platform=linux/amd64 ${BASE} AS build",
      "RUN echo hi",
      'RUN ["echo", "exec"]',
      "COPY --from=other --chown=1:2 --chmod=755 a b /dst/",
      "ADD x.txt /y",
      'ENV A=1 B="two words"',
      "ENV LEGACY some value",
      "ARG NAME DEF=x",
      "WORKDIR /app",
      "USER nobody:nogroup",
      'ENTRYPOINT ["/bin/app"]',
      "CMD --help",
      'LABEL a=b "c d"=e',
      "EXPOSE 80 53/udp",
      'SHELL ["/bin/bash", "-c"]',
      "VOLUME /data",
      "STOPSIGNAL SIGTERM",
      "HEALTHCHECK NONE",
      "maintainer someone",
    ].join("\n");
    const df = parseDockerfile(text);
    assert.deepEqual(df.globalArgs, [{ line: 2, kind: "ARG", args: [{ name: "BASE", default: "busybox" }] }]);
    assert.equal(df.stages.length, 1);
    assert.deepEqual(df.stages[0]!.from, { line: 3, kind: "FROM", image: "${BASE}", stageName: "build", platform: "linux/amd64" });
    assert.deepEqual(df.stages[0]!.instructions, [
      { line: 4, kind: "RUN", command: { form: "shell", text: "echo hi" } },
      { line: 5, kind: "RUN", command: { form: "exec", args: ["echo", "exec"] } },
      { line: 6, kind: "COPY", sources: ["a", "b"], dest: "/dst/", from: "other", chown: "1:2", chmod: "755" },
      { line: 7, kind: "ADD", sources: ["x.txt"], dest: "/y" },
      {
        line: 8,
        kind: "ENV",
        pairs: [
          { key: "A", value: "1" },
          { key: "B", value: '"two words"' },
        ],
      },
      { line: 9, kind: "ENV", pairs: [{ key: "LEGACY", value: "some value" }] },
      { line: 10, kind: "ARG", args: [{ name: "NAME" }, { name: "DEF", default: "x" }] },
      { line: 11, kind: "WORKDIR", value: "/app" },
      { line: 12, kind: "USER", value: "nobody:nogroup" },
      { line: 13, kind: "ENTRYPOINT", command: { form: "exec", args: ["/bin/app"] } },
      { line: 14, kind: "CMD", command: { form: "shell", text: "--help" } },
      {
        line: 15,
        kind: "LABEL",
        pairs: [
          { key: "a", value: "b" },
          { key: "c d", value: "e" },
        ],
      },
      { line: 16, kind: "EXPOSE", values: ["80", "53/udp"] },
      { line: 17, kind: "SHELL", args: ["/bin/bash", "-c"] },
      { line: 18, kind: "VOLUME", values: ["/data"] },
      { line: 19, kind: "STOPSIGNAL", value: "SIGTERM" },
      { line: 20, kind: "HEALTHCHECK", text: "NONE" },
      { line: 21, kind: "LABEL", pairs: [{ key: "maintainer", value: '"someone"' }] },
    ]);
  });

  test("stages by name, lower-cased; instruction names in any case", () => {
    const df = parseDockerfile("from a AS Build\nrun x\nFROM build\ncopy --from=Build /a /b\n");
    assert.equal(df.stages.length, 2);
    assert.equal(df.stages[0]!.from.stageName, "build");
    assert.equal(df.stages[1]!.from.image, "build");
    assert.equal(df.stages[1]!.from.line, 3);
    assert.deepEqual(df.stages[1]!.instructions[0], { line: 4, kind: "COPY", sources: ["/a"], dest: "/b", from: "Build" });
  });

  test("line continuations join lines; comments and blank lines inside are skipped", () => {
    const text = "FROM a\nRUN echo one \\\n  two \\\n# a comment inside\n\n  three\nCMD x\n";
    const [, run, cmd] = instructions(text);
    assert.deepEqual(run, { line: 2, kind: "RUN", command: { form: "shell", text: "echo one   two   three" } });
    assert.equal(cmd!.line, 7);
  });

  test("a continuation may have trailing spaces; one at the end of the file ends the instruction", () => {
    const [, run] = instructions("FROM a\nRUN a \\   \n b \\");
    assert.deepEqual(run, { line: 2, kind: "RUN", command: { form: "shell", text: "a  b" } });
  });

  test("the escape directive switches the continuation and escape character", () => {
    const text = "# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo ok\nENV P=c:\\\\x\n";
    const df = parseDockerfile(text);
    assert.equal(df.escapeChar, "`");
    assert.deepEqual(df.stages[0]!.instructions[0], { line: 3, kind: "RUN", command: { form: "shell", text: "dir c:\\   && echo ok" } });
    const env = df.stages[0]!.instructions[1] as InstructionOf<"ENV">;
    assert.equal(
      expandWord(env.pairs[0]!.value, () => undefined, df.escapeChar),
      "c:\\\\x",
    );
  });

  test("directives count only at the top; unknown ones are comments", () => {
    const df = parseDockerfile("# syntax=docker/dockerfile:1\n# escape=`\n\n# escape=\\\n# syntax=late\nFROM a\n");
    assert.equal(df.escapeChar, "`");
    assert.equal(df.syntax, "docker/dockerfile:1");
    assert.equal(parseDockerfile("FROM a\n").syntax, undefined);
    assert.throws(() => parseDockerfile("# escape=x\nFROM a"), /Dockerfile:1: invalid escape directive "x"/);
  });

  test("JSON form only when it parses; otherwise shell form", () => {
    const [, a, b] = instructions('FROM a\nRUN [ -f x ] && echo yes\nCMD ["sh", "-c", "echo \\"hi\\""]\n');
    assert.deepEqual(a, { line: 2, kind: "RUN", command: { form: "shell", text: "[ -f x ] && echo yes" } });
    assert.deepEqual(b, { line: 3, kind: "CMD", command: { form: "exec", args: ["sh", "-c", 'echo "hi"'] } });
    assert.throws(() => parseDockerfile('FROM a\nCMD ["a", 1]'), /Dockerfile:2: CMD in JSON form needs an array of strings/);
    assert.throws(() => parseDockerfile("FROM a\nSHELL /bin/sh -c"), /Dockerfile:2: SHELL needs a JSON array/);
  });

  test("COPY in JSON form keeps spaces in names", () => {
    const [, copy] = instructions('FROM a\nCOPY ["my file", "/dst dir/"]\n');
    assert.deepEqual(copy, { line: 2, kind: "COPY", sources: ["my file"], dest: "/dst dir/" });
  });

  test("unsupported flags and instructions name themselves and the line", () => {
    assert.throws(() => parseDockerfile("FROM a\n\nRUN --mount=type=tmpfs,target=/x echo"), {
      message: "Dockerfile:3: --mount=type=tmpfs,target=/x: type=tmpfs is not supported (cache, secret, bind and ssh are)",
    });
    assert.throws(() => parseDockerfile("FROM a\nRUN --network=none echo"), { message: "Dockerfile:2: unsupported flag --network for RUN" });
    assert.throws(() => parseDockerfile("FROM a\nCOPY --link a b"), { message: "Dockerfile:2: unsupported flag --link for COPY" });
    assert.throws(() => parseDockerfile("FROM a\nADD --checksum=sha256:x a b"), { message: "Dockerfile:2: unsupported flag --checksum for ADD" });
    assert.throws(() => parseDockerfile("FROM a\nADD --from=x a b"), { message: "Dockerfile:2: unsupported flag --from for ADD" });
    assert.throws(() => parseDockerfile("FROM a\nONBUILD RUN x"), { message: "Dockerfile:2: unsupported instruction ONBUILD" });
    assert.throws(() => parseDockerfile("FROM a\nFROB x", "my.Dockerfile"), { message: "my.Dockerfile:2: unknown instruction FROB" });
    assert.throws(() => parseDockerfile("FROM a\nADD https://example.com/x /x"), /Dockerfile:2: unsupported source "https:\/\/example.com\/x" for ADD/);
    assert.throws(() => parseDockerfile("FROM a\nCOPY --chown a b"), /Dockerfile:2: flag --chown for COPY needs a value/);
  });

  test("heredocs: RUN bodies (script, shell, a shebang file), COPY sources, <<- tabs, quoted delimiters", () => {
    const text = [
      "FROM a",
      "RUN <<EOF",
      "echo one",
      "echo $HOME",
      "EOF",
      "RUN cat <<-'END' > /f && echo after",
      "\tkeep $X",
      "\tEND",
      "RUN <<-EOF",
      "\t#!/usr/bin/env python3",
      "\tprint(1)",
      "\tEOF",
      "COPY --chmod=755 <<A <<'B' plain.txt /dst/",
      "a ${V}",
      "A",
      "b ${V}",
      "B",
      "RUN echo '<<NOT' last # isn't a heredoc",
    ].join("\n");
    const [, simple, compound, script, copy, last] = instructions(text);
    assert.deepEqual(simple, { line: 2, kind: "RUN", command: { form: "shell", text: "echo one\necho $HOME\n" } });
    // The shell handles a heredoc inside a command: it gets the body as written.
    assert.deepEqual(compound, { line: 6, kind: "RUN", command: { form: "shell", text: "cat <<-'END' > /f && echo after\n\tkeep $X\nEND" } });
    assert.deepEqual(script, {
      line: 9,
      kind: "RUN",
      command: { form: "exec", args: [] },
      script: { name: "EOF", data: "#!/usr/bin/env python3\nprint(1)\n" },
    });
    assert.deepEqual(copy, {
      line: 13,
      kind: "COPY",
      sources: ["plain.txt"],
      dest: "/dst/",
      chmod: "755",
      contents: [
        { name: "A", data: "a ${V}\n", expand: true },
        { name: "B", data: "b ${V}\n", expand: false },
      ],
    });
    assert.deepEqual(last, { line: 18, kind: "RUN", command: { form: "shell", text: "echo '<<NOT' last # isn't a heredoc" } });
    assert.throws(() => parseDockerfile("FROM a\nRUN cat <<EOF\nhi\n"), { message: 'Dockerfile:2: unterminated heredoc <<EOF in RUN: no line "EOF" ends it' });
    assert.throws(() => parseDockerfile("FROM a\nCOPY a <<EOF\nx\nEOF"), /Dockerfile:2: COPY takes a heredoc as a source, not as the destination/);
  });

  test("heredoc bodies expand variables but keep quotes and escapes", () => {
    const vars = new Map([["V", "vee"]]);
    assert.equal(
      expandBody("say \"$V\" '${V}' \\n ${NONE:-dflt}\n", true, (n) => vars.get(n), "\\"),
      "say \"vee\" 'vee' \\n dflt\n",
    );
    assert.equal(
      expandBody("keep $V\n", false, (n) => vars.get(n), "\\"),
      "keep $V\n",
    );
  });

  test("malformed instructions", () => {
    assert.throws(() => parseDockerfile("RUN x\nFROM a"), /Dockerfile:1: RUN before FROM/);
    assert.throws(() => parseDockerfile("# only a comment\n"), /no FROM instruction/);
    assert.throws(() => parseDockerfile("FROM a b c d"), /Dockerfile:1: FROM takes an image/);
    assert.throws(() => parseDockerfile("FROM a\nCOPY onlyone"), /Dockerfile:2: COPY needs at least one source and a destination/);
    assert.throws(() => parseDockerfile("FROM a\nENV A=1 B"), /Dockerfile:2: ENV needs name=value pairs, not "B"/);
    assert.throws(() => parseDockerfile("FROM a\nENV A"), /Dockerfile:2: ENV A needs a value/);
    assert.throws(() => parseDockerfile('FROM a\nENV A="x'), /Dockerfile:2: unterminated double quote/);
    assert.throws(() => parseDockerfile("FROM a\nARG 1x"), /Dockerfile:2: invalid ARG name "1x"/);
    assert.throws(() => parseDockerfile("FROM a\nWORKDIR"), /Dockerfile:2: WORKDIR needs arguments/);
  });
});

describe("variable substitution", () => {
  const vars: Record<string, string> = { A: "a", EMPTY: "", SPACED: "x  y" };
  const lookup = (n: string): string | undefined => vars[n];

  test("$VAR and ${VAR}; unset is empty; a lone $ stays", () => {
    assert.equal(expandWord("$A-${A}b-$NOPE-${NOPE}.$", lookup), "a-ab--.$");
    assert.equal(expandWord("cost $5", lookup), "cost $5");
  });

  test("modifiers: :- - :+ + :?", () => {
    assert.equal(expandWord("${NOPE:-def}|${EMPTY:-def}|${A:-def}", lookup), "def|def|a");
    assert.equal(expandWord("${NOPE-def}|${EMPTY-def}", lookup), "def|");
    assert.equal(expandWord("${NOPE:+alt}|${EMPTY:+alt}|${A:+alt}", lookup), "||alt");
    assert.equal(expandWord("${EMPTY+alt}", lookup), "alt");
    assert.equal(expandWord("${NOPE:-$A/${A}}", lookup), "a/a");
    assert.throws(() => expandWord("${NOPE:?must be set}", lookup), /NOPE: must be set/);
    assert.throws(() => expandWord("${A#x}", lookup), /unsupported substitution/);
    assert.throws(() => expandWord("${A:-x", lookup), /matching "}"/);
  });

  test("quotes: single literal, double expanded, both removed; escapes", () => {
    assert.equal(expandWord(`'$A'"$A"`, lookup), "$Aa");
    assert.equal(expandWord(`"say \\"hi\\" \\$A \\n"`, lookup), 'say "hi" $A \\n');
    assert.equal(expandWord("\\$A\\ b", lookup), "$A b");
    assert.equal(expandWord("`$A", lookup, "`"), "$A");
    assert.throws(() => expandWord("'open", lookup), /single quote/);
  });

  test("words: unquoted values are split, quoted ones are not", () => {
    assert.deepEqual(expandWords(`$SPACED "$SPACED" 'q r'  s`, lookup), ["x", "y", "x  y", "q r", "s"]);
    assert.deepEqual(expandWords("$EMPTY", lookup), []);
  });
});
