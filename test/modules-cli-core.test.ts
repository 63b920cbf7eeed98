/**
 * `tanto call`'s pipeline against a real engine, on the core API: the command
 * tree comes from a type-definition fixture shaped like Dagger's
 * `currentTypeDefs` answer for core types (what `call -M` loads), so flags,
 * object arguments built over the session (host directory, secret from the
 * environment, cache volume), the leaf selection, `-o` exports and files,
 * `-j`, `<Type>@<digest>` and an exec's exit code are all checked for real.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { executeCall, reportError } from "../src/cli/module/call-command.js";
import { completeFromSchema, missingTypes } from "../src/cli/module/introspect.js";
import { GraphQLFailure, type ModuleSession, openModuleSession } from "../src/cli/module/session.js";
import { buildModel, type ModuleModel, type TypeDefJson, type TypeRefJson } from "../src/cli/module/typedefs.js";
import { RUNNER_HOST_ENV } from "../src/client/connect.js";
import { startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const str: TypeRefJson = { kind: "STRING_KIND", optional: false };
const optStr: TypeRefJson = { kind: "STRING_KIND", optional: true };
const obj = (name: string): TypeRefJson => ({ kind: "OBJECT_KIND", optional: false, asObject: { name } });
const list = (elem: TypeRefJson): TypeRefJson => ({ kind: "LIST_KIND", optional: false, asList: { elementTypeDef: elem } });
const arg = (name: string, typeDef: TypeRefJson, defaultValue: string | null = null) => ({
  name,
  description: "",
  defaultValue,
  defaultPath: "",
  ignore: [],
  typeDef,
});
const fn = (name: string, returnType: TypeRefJson, args: ReturnType<typeof arg>[] = []) => ({ name, description: "", returnType, args });
const object = (name: string, functions: ReturnType<typeof fn>[]): TypeDefJson => ({
  kind: "OBJECT_KIND",
  optional: false,
  asObject: { name, description: "", sourceModuleName: "", constructor: null, fields: [], functions },
});

const CORE: TypeDefJson[] = [
  object("Query", [fn("container", obj("Container")), fn("directory", obj("Directory")), fn("cacheVolume", obj("CacheVolume"), [arg("key", str)])]),
  object("Container", [
    fn("from", obj("Container"), [arg("address", str)]),
    fn("withExec", obj("Container"), [arg("args", list(str))]),
    fn("withDirectory", obj("Container"), [arg("path", str), arg("source", obj("Directory"))]),
    fn("withSecretVariable", obj("Container"), [arg("name", str), arg("secret", obj("Secret"))]),
    fn("withMountedCache", obj("Container"), [arg("path", str), arg("cache", obj("CacheVolume"))]),
    fn("stdout", str),
    fn("file", obj("File"), [arg("path", str)]),
    fn("directory", obj("Directory"), [arg("path", str)]),
    fn("sync", obj("Container")),
    fn("id", { kind: "SCALAR_KIND", optional: false, asScalar: { name: "ContainerID" } }),
  ]),
  object("Directory", [
    fn("entries", list(str), [arg("path", optStr)]),
    fn("sync", obj("Directory")),
    fn("export", str, [arg("path", str), arg("wipe", { kind: "BOOLEAN_KIND", optional: false }, "false")]),
  ]),
  object("File", [
    fn("contents", str),
    fn("sync", obj("File")),
    fn("export", str, [arg("path", str), arg("allowParentDirPath", { kind: "BOOLEAN_KIND", optional: false }, "false")]),
  ]),
  object("Secret", []),
  object("CacheVolume", []),
];

describe("call pipeline on the core API", () => {
  let engine: TestEngine;
  let session: ModuleSession;
  let dir: string;
  let model: ModuleModel;
  const call = (...argv: string[]) => executeCall(session, model, argv, { cwd: dir, stdoutIsTTY: false });
  const BUSYBOX = ["container", "from", "--address", "busybox:latest"];

  before(async () => {
    engine = await startEngine({ registry: await testRegistry() });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-callcore-"));
    await fs.mkdir(path.join(dir, "data"));
    await fs.writeFile(path.join(dir, "data", "a.txt"), "A");
    await fs.writeFile(path.join(dir, "data", "b.txt"), "B");
    process.env[RUNNER_HOST_ENV] = engine.env[RUNNER_HOST_ENV];
    process.chdir(dir);
    session = await openModuleSession();
    model = buildModel(CORE, "");
  });
  after(async () => {
    await session?.close();
    process.chdir(os.tmpdir());
    await fs.rm(dir, { recursive: true, force: true });
    await engine.destroy();
  });

  test("a chain with a CSV list flag prints the scalar plain", async () => {
    const out = await call(...BUSYBOX, "with-exec", "--args", 'echo,"hello, world"', "stdout");
    assert.deepEqual(out, { stdout: "hello, world\n", stderr: "" });
  });

  test("an object leaf is synced and printed as <Type>@<digest>, the same recipe giving the same digest", async () => {
    const a = await call(...BUSYBOX, "with-exec", "--args", "true");
    assert.match(a.stdout, /^Container@sha256:[0-9a-f]{64}\n$/);
    assert.equal((await call(...BUSYBOX, "with-exec", "--args", "true")).stdout, a.stdout);
    assert.notEqual((await call(...BUSYBOX, "with-exec", "--args", "echo,other")).stdout, a.stdout, "another recipe, another digest");
  });

  test("a host directory flag travels over the session; -j prints JSON", async () => {
    const out = await call(...BUSYBOX, "with-directory", "--path", "/data", "--source", "./data", "directory", "--path", "/data", "entries", "--json");
    assert.equal(out.stdout, '[\n    "a.txt",\n    "b.txt"\n]\n');
  });

  test("a secret from the environment and a cache volume by name", async () => {
    process.env["TANTO_CALL_SECRET"] = "s3cr3t-value";
    const out = await call(
      ...BUSYBOX,
      "with-secret-variable",
      "--name",
      "S",
      "--secret",
      "env:TANTO_CALL_SECRET",
      "with-mounted-cache",
      "--path",
      "/cache",
      "--cache",
      "call-test-cache",
      "with-exec",
      "--args",
      "sh,-c,echo ${#S} $S; test -d /cache",
      "stdout",
    );
    assert.equal(out.stdout, "12 ***\n", "the secret arrived (its length) and is masked");
  });

  test("-o on a File exports it (Saved to …), -o on a scalar writes the file and prints it too", async () => {
    const file = await call(...BUSYBOX, "with-exec", "--args", "sh,-c,echo exported > /out.txt", "file", "--path", "/out.txt", "-o", "exported.txt");
    assert.equal(file.stdout, "");
    assert.equal(file.stderr, `Saved to ${JSON.stringify(path.join(dir, "exported.txt"))}.\n`);
    assert.equal(await fs.readFile(path.join(dir, "exported.txt"), "utf8"), "exported\n");

    const scalar = await call(...BUSYBOX, "with-exec", "--args", "echo,saved", "stdout", "-o", "out/s.txt");
    assert.equal(scalar.stdout, "saved\n");
    assert.equal(scalar.stderr, `Saved output to ${JSON.stringify(path.join(dir, "out", "s.txt"))}.\n`);
    assert.equal(await fs.readFile(path.join(dir, "out", "s.txt"), "utf8"), "saved\n");
  });

  test("a failing exec keeps its exit code; a bad object argument names its flag", async () => {
    const err = await call(...BUSYBOX, "with-exec", "--args", "sh,-c,echo oops >&2; exit 7", "stdout").then(
      () => assert.fail("no error"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GraphQLFailure, String(err));
    assert.equal(err.exec?.exitCode, 7);
    assert.match(err.exec?.stderr ?? "", /oops/);
    const write = process.stderr.write;
    let printed = "";
    process.stderr.write = ((chunk: string) => {
      printed += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      assert.equal(reportError(err), 7);
    } finally {
      process.stderr.write = write;
    }
    assert.match(printed, /^Error: .*exit code: 7/);
    assert.match(printed, /\nStderr:\noops\n/);

    await assert.rejects(
      call(...BUSYBOX, "with-directory", "--path", "/x", "--source", "./no-such-dir", "stdout"),
      /failed to get value for argument "source": /,
    );
  });

  test("types the typedefs do not list come from the schema: a bare Query for -M, core types for a module", async () => {
    const bare = buildModel([object("Query", [])], "");
    await completeFromSchema(session, bare, true);
    assert.ok(bare.root.functions.some((f) => f.name === "container"));
    assert.ok(!bare.root.functions.some((f) => /^load.+FromID$/.test(f.name)));
    const withExec = bare.objects.get("Container")?.functions.find((f) => f.name === "withExec");
    assert.equal(withExec?.args.find((a) => a.name === "args")?.type.kind, "LIST_KIND");
    const withDirectory = bare.objects.get("Container")?.functions.find((f) => f.name === "withDirectory");
    assert.deepEqual(withDirectory?.args.find((a) => a.name === "source")?.type, { kind: "OBJECT_KIND", optional: false, name: "Directory" });
    const out = await executeCall(
      session,
      bare,
      [...BUSYBOX, "with-directory", "--path", "/d", "--source", "./data", "with-exec", "--args", "ls,/d", "stdout"],
      {
        cwd: dir,
        stdoutIsTTY: false,
      },
    );
    assert.equal(out.stdout, "a.txt\nb.txt\n");

    const mod = buildModel(
      [
        object("Query", [fn("tool", obj("Tool"))]),
        {
          ...object("Tool", [fn("base", obj("Container"))]),
          asObject: { ...object("Tool", [fn("base", obj("Container"))]).asObject!, sourceModuleName: "tool" },
        },
      ],
      "tool",
    );
    assert.deepEqual(missingTypes(mod), ["Container"]);
    await completeFromSchema(session, mod, false);
    assert.deepEqual(missingTypes(mod), []);
    assert.ok(mod.objects.get("Container")?.functions.some((f) => f.name === "stdout"));
    assert.ok(mod.enums.has("ReturnType"), "enums reached from Container come along");
  });
});
