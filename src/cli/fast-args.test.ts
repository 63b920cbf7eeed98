import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFast } from "./fast-args.js";

test("engine: its options, with or without `start`, in both spellings", () => {
  assert.deepEqual(parseFast(["engine", "--root", "/r", "--addr=unix:///a.sock", "--addr", "tcp://1.2.3.4:5", "--debug", "--network-name", "n"]), {
    name: "engine",
    opts: { root: "/r", addr: ["unix:///a.sock", "tcp://1.2.3.4:5"], debug: true, networkName: "n" },
  });
  assert.deepEqual(parseFast(["engine", "start", "--config=/c.toml"]), { name: "engine", opts: { config: "/c.toml" } });
  assert.deepEqual(parseFast(["engine"]), { name: "engine", opts: {} });
});

test("query: operation, variables and progress flags before and after the command", () => {
  assert.deepEqual(parseFast(["--progress=plain", "query", "Op", "--doc", "q.graphql", "--var", "a=1", "--var=b=2", "--timestamps"]), {
    name: "query",
    operation: "Op",
    opts: { doc: "q.graphql", var: ["a=1", "b=2"], timestamps: true },
    global: { progress: "plain" },
  });
  assert.deepEqual(parseFast(["q", "--vars", "{}"]), { name: "query", operation: undefined, opts: { vars: "{}" }, global: {} });
  // A value that starts with a dash is still the option's value, as commander reads it.
  assert.deepEqual(parseFast(["query", "--var", "-x=1"]), { name: "query", operation: undefined, opts: { var: ["-x=1"] }, global: {} });
});

test("run: options end at the command, whose own flags are its own", () => {
  assert.deepEqual(parseFast(["run", "-i", "--workdir", "/w", "node", "x.mjs", "--progress", "plain", "-i"]), {
    name: "run",
    command: ["node", "x.mjs", "--progress", "plain", "-i"],
    opts: { interactive: true, workdir: "/w" },
    global: {},
  });
});

test("session: labels repeat", () => {
  assert.deepEqual(parseFast(["session", "--label", "a:b", "--label", "c:d", "--workdir", "/w"]), {
    name: "session",
    opts: { label: ["a:b", "c:d"], workdir: "/w" },
  });
});

test("anything else goes to the full parser", () => {
  for (const argv of [
    [],
    ["version"],
    ["--version"],
    ["call", "fn"],
    ["engine", "du"],
    ["engine", "--help"],
    ["engine", "--inspect"],
    ["engine", "--root"],
    ["engine", "extra"],
    ["--progress=plain", "engine"],
    ["query", "a", "b"],
    ["query", "--help"],
    ["query", "-h"],
    ["query", "--doc"],
    ["query", "--timestamps=yes"],
    ["query", "--", "x"],
    ["query", "--constructor", "x"],
    ["run"],
    ["run", "--unknown", "node"],
    ["session", "--sdk-version", "1"],
    ["--debug", "query"],
  ]) {
    assert.equal(parseFast(argv), undefined, JSON.stringify(argv));
  }
});
