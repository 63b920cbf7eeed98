import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { encodeId } from "../../core/ids.js";
import { findOrCreateLicense, licenseText } from "./license.js";
import { inferSourcePath } from "./manage-commands.js";
import { describeId, leafPlan, render } from "./output.js";
import { failureOf } from "./session.js";
import { MODULE_TYPEDEFS } from "./testdata/typedefs.js";
import { buildModel, type TypeRef } from "./typedefs.js";

const model = buildModel(MODULE_TYPEDEFS, "my-module");
const t = (kind: TypeRef["kind"], name?: string, elem?: TypeRef): TypeRef => ({ kind, optional: false, ...(name ? { name } : {}), ...(elem ? { elem } : {}) });
const opts = { json: false, cwd: "/w", stdoutIsTTY: false };

test("leaf selection: export with -o where the type has it, sync when it has sync, else id; scalars as they are", () => {
  assert.deepEqual(leafPlan(model, t("OBJECT_KIND", "Container"), undefined, "/w"), { steps: [{ field: "sync", alias: "id" }], mode: "object" });
  assert.deepEqual(leafPlan(model, t("OBJECT_KIND", "Directory"), "out", "/w"), { steps: [{ field: "export", args: [["path", "/w/out"]] }], mode: "export" });
  assert.deepEqual(leafPlan(model, t("OBJECT_KIND", "File"), "/tmp/f", "/w"), {
    steps: [
      {
        field: "export",
        args: [
          ["path", "/tmp/f"],
          ["allowParentDirPath", true],
        ],
      },
    ],
    mode: "export",
  });
  assert.deepEqual(leafPlan(model, t("OBJECT_KIND", "MyModuleSub"), "out", "/w"), { steps: [{ field: "id" }], mode: "object" });
  assert.deepEqual(leafPlan(model, t("LIST_KIND", undefined, t("OBJECT_KIND", "MyModuleSub")), undefined, "/w").mode, "object");
  assert.deepEqual(leafPlan(model, t("STRING_KIND"), "out", "/w"), { steps: [], mode: "value" });
});

test("objects print as <Type>@<digest> from the ID, lists one '- ' line per item", () => {
  const id = encodeId({ typename: "Container", toJSON: () => ({ image: "alpine" }) });
  const described = describeId(id, "Whatever");
  assert.match(described, /^Container@sha256:[0-9a-f]{64}$/);
  assert.notEqual(describeId(encodeId({ typename: "Container", toJSON: () => ({ image: "busybox" }) }), "X"), described, "the digest follows the recipe");
  assert.equal(describeId("not-a-tanto-id", "MyModuleSub"), `MyModuleSub@sha256:${createHash("sha256").update("not-a-tanto-id").digest("hex")}`);
  assert.equal(render(t("OBJECT_KIND", "Container"), "object", { id }, opts).stdout, described + "\n");
  const list = render(t("LIST_KIND", undefined, t("OBJECT_KIND", "Container")), "object", [id, { id }], opts).stdout;
  assert.equal(list, `- ${described}\n- ${described}\n`);
  assert.throws(() => render(t("OBJECT_KIND", "Container"), "object", { nope: 1 }, opts), /no ID found/);
});

test("scalars: plain (no newline added off a TTY), list items per line, -j as 4-space JSON, -o to a file, exports and Void", () => {
  assert.deepEqual(render(t("STRING_KIND"), "value", "hello", opts), { stdout: "hello", stderr: "" });
  assert.equal(render(t("STRING_KIND"), "value", "hello", { ...opts, stdoutIsTTY: true }).stdout, "hello\n");
  assert.equal(render(t("LIST_KIND", undefined, t("INTEGER_KIND")), "value", [1, 2], opts).stdout, "1\n2\n");
  assert.equal(render(t("BOOLEAN_KIND"), "value", false, opts).stdout, "false");
  assert.equal(render(t("LIST_KIND", undefined, t("STRING_KIND")), "value", ["a", "<b>"], { ...opts, json: true }).stdout, '[\n    "a",\n    "<b>"\n]\n');
  const saved = render(t("STRING_KIND"), "value", "data", { ...opts, outputPath: "sub/out.txt" });
  assert.deepEqual(saved, { stdout: "data", stderr: 'Saved output to "/w/sub/out.txt".\n', file: { path: "/w/sub/out.txt", content: "data" } });
  assert.deepEqual(render(t("OBJECT_KIND", "Directory"), "export", "/w/out", opts), { stdout: "", stderr: 'Saved to "/w/out".\n' });
  assert.deepEqual(render(t("VOID_KIND"), "value", null, opts), { stdout: "", stderr: "" });
});

test("GraphQL errors: messages joined; an exec failure keeps its exit code, stdout and stderr", () => {
  const plain = failureOf([{ message: "a" }, { message: "b" }]);
  assert.equal(plain.message, "a\nb");
  assert.equal(plain.exec, undefined);
  const exec = failureOf([{ message: "process failed", extensions: { _type: "EXEC_ERROR", exitCode: 42, stdout: "o", stderr: "e" } }]);
  assert.deepEqual(exec.exec, { exitCode: 42, stdout: "o", stderr: "e" });
});

test("source path: . for an empty or hidden-only directory, .dagger otherwise; LICENSE written unless one exists", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-modcli-"));
  try {
    assert.equal(await inferSourcePath(path.join(dir, "missing")), ".");
    await fs.writeFile(path.join(dir, "dagger.json"), "{}");
    await fs.writeFile(path.join(dir, ".hidden"), "");
    assert.equal(await inferSourcePath(dir), ".");
    await fs.writeFile(path.join(dir, "main.go"), "");
    assert.equal(await inferSourcePath(dir), ".dagger");

    const texts = path.join(dir, "texts");
    await fs.mkdir(texts);
    await fs.writeFile(path.join(texts, "Apache-2.0"), "APACHE TEXT\n");
    await fs.writeFile(path.join(texts, "MPL-2.0"), "MPL TEXT\n");
    const root = path.join(dir, "mod");
    assert.equal(await findOrCreateLicense(root, "Apache-2.0", true, texts), path.join(root, "LICENSE"));
    assert.equal(await fs.readFile(path.join(root, "LICENSE"), "utf8"), "APACHE TEXT\n");
    assert.equal(await findOrCreateLicense(root, "MPL-2.0", true, texts), undefined, "an existing LICENSE is kept");
    assert.equal(await findOrCreateLicense(root, "MPL-2.0", false, texts), path.join(root, "LICENSE"), "an explicit --license replaces it");
    assert.equal(await fs.readFile(path.join(root, "LICENSE"), "utf8"), "MPL TEXT\n");
    await assert.rejects(licenseText("Nope-1.0", texts), /failed to get license "Nope-1.0": unknown SPDX ID/);
    await assert.rejects(licenseText("GPL-3.0", texts), /failed to get license "GPL-3.0": ENOENT/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("errors as Dagger prints them: Error: …, a usage pointer for command-line mistakes, an exec's output and exit code", async () => {
  const { reportError } = await import("./call-command.js");
  const { UsageError } = await import("./argv.js");
  const write = process.stderr.write;
  let printed = "";
  process.stderr.write = ((chunk: string) => {
    printed += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.equal(reportError(new UsageError('unknown command "x" for "tanto call"', "tanto call")), 1);
    assert.equal(printed, `Error: unknown command "x" for "tanto call"\nRun 'tanto call --help' for usage.\n`);
    printed = "";
    assert.equal(reportError(failureOf([{ message: "boom", extensions: { _type: "EXEC_ERROR", exitCode: 5, stdout: "out", stderr: "" } }])), 5);
    assert.equal(printed, "Error: boom\nStdout:\nout\n");
    printed = "";
    assert.equal(reportError(new Error("plain")), 1);
    assert.equal(printed, "Error: plain\n");
  } finally {
    process.stderr.write = write;
  }
});
