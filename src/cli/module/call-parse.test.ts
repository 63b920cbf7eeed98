import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "graphql";
import { parseCall, scanGlobals, UsageError } from "./argv.js";
import { functionsTable, walkFunctions } from "./call-command.js";
import { callSteps, objectArgSteps, objectArgs } from "./call-query.js";
import type { FlagValue } from "./flags.js";
import { readCsv } from "./flags.js";
import { buildQuery } from "./graphql.js";
import { callHelp, staticCallHelp } from "./help.js";
import { moduleRef } from "./load.js";
import { MODULE_TYPEDEFS } from "./testdata/typedefs.js";
import { buildModel } from "./typedefs.js";

const model = () => buildModel(MODULE_TYPEDEFS, "my-module");

function queryOf(argv: string[], ids = new Map<FlagValue, string>()): string {
  const { levels } = parseCall(model(), argv);
  return buildQuery(callSteps(levels, ids));
}

test("the model: main object by module name, constructor from Query, fields as functions", () => {
  const m = model();
  assert.equal(m.main.name, "MyModule");
  assert.equal(m.constructorFn?.name, "myModule");
  assert.deepEqual(
    m.main.functions.map((f) => f.cmd),
    ["greeting", "container-echo", "grep-dir", "counts", "with-secret", "lint", "sub", "subs", "nothing", "build"],
  );
  assert.throws(() => buildModel(MODULE_TYPEDEFS, "other"), /main object not found/);
  assert.throws(
    () =>
      buildModel(
        MODULE_TYPEDEFS.filter((t) => t.asObject?.name !== "Query"),
        "my-module",
      ),
    /query typedef not found/,
  );
  const core = buildModel(MODULE_TYPEDEFS, "");
  assert.equal(core.main.name, "Query");
  assert.equal(core.constructorFn, undefined);
});

test("a chain: constructor flags, function, flags, next function; kebab and camelCase flags; only set flags sent", () => {
  assert.equal(queryOf(["container-echo", "--string-arg", "hello"]), 'query { myModule { containerEcho(stringArg: "hello") } }');
  assert.equal(queryOf(["--prefix=yo", "containerEcho", "--stringArg=a b"]), 'query { myModule(prefix: "yo") { containerEcho(stringArg: "a b") } }');
  assert.equal(queryOf(["sub", "--name", "x", "dir"]), 'query { myModule { sub(name: "x") { dir } } }');
  assert.equal(queryOf(["sub", "name"]), "query { myModule { sub { name } } }");
  assert.equal(queryOf(["greeting"]), "query { myModule { greeting } }");
  assert.equal(queryOf(["lint"]), "query { myModule { lint } }", "an argument with a defaultPath is not required");
});

test("flag values: int, float, bool alone or =false, enums case-insensitive, CSV lists that repeat, in argument order", () => {
  const q = queryOf(["counts", "--levels", "low,HIGH", "--verbose", "--tags", 'x,"y,z"', "--tags", "w", "--ratio", "0.5", "--n", "-7", "--level", "high"]);
  assert.equal(q, 'query { myModule { counts(n: -7, ratio: 0.5, verbose: true, tags: ["x", "y,z", "w"], level: HIGH, levels: [LOW, HIGH]) } }');
  parse(q);
  assert.equal(queryOf(["counts", "--verbose=false"]), "query { myModule { counts(verbose: false) } }");
  assert.deepEqual(readCsv('a,"b ""q""",,c'), ["a", 'b "q"', "", "c"]);
});

test("errors name the flag or list what is known", () => {
  const m = model();
  const err = (argv: string[]): UsageError => {
    try {
      parseCall(m, argv);
    } catch (e) {
      assert.ok(e instanceof UsageError || e instanceof Error);
      return e as UsageError;
    }
    assert.fail(`no error for ${argv.join(" ")}`);
  };
  assert.match(err(["nope"]).message, /^unknown command "nope" for "tanto call" \(functions: /);
  assert.match(err(["nope"]).message, /container-echo, counts, greeting, grep-dir, lint, nothing, sub, subs, with-secret/);
  assert.doesNotMatch(err(["nope"]).message, /\bbuild\b/, "a function with an unsupported required argument is not offered");
  const flag = err(["container-echo", "--strng-arg", "x"]);
  assert.equal(flag.message, 'unknown flag: --strng-arg (flags of "tanto call container-echo": --string-arg)');
  assert.equal(flag.commandPath, "tanto call container-echo");
  assert.equal(err(["counts", "--n", "three"]).message, 'invalid argument "three" for "--n" flag: not an integer');
  assert.equal(err(["counts", "--ratio", "x"]).message, 'invalid argument "x" for "--ratio" flag: not a number');
  assert.equal(err(["counts", "--verbose=maybe"]).message, 'invalid argument "maybe" for "--verbose" flag: not a boolean (true or false)');
  assert.equal(err(["counts", "--level", "mid"]).message, 'invalid argument "mid" for "--level" flag: value should be one of LOW,HIGH');
  assert.equal(err(["grep-dir", "--pattern", "x"]).message, 'required flag(s) "directory-arg" not set');
  assert.equal(err(["with-secret"]).message, 'required flag(s) "token" not set');
  assert.equal(err(["container-echo", "--string-arg"]).message, "flag needs an argument: --string-arg");
  assert.equal(err(["greeting", "more"]).message, 'unknown command "more" for "tanto call greeting" (it has no functions)');
  assert.equal(err(["-x"]).message, "unknown shorthand flag: 'x' in -x");
  assert.match(
    err(["with-secret", "--token", "T", "--svc", "http://a:1"]).message,
    /^invalid argument "http:\/\/a:1" for "--svc" flag: unsupported service address/,
  );
});

test("global flags anywhere: -o/--output, -j/--json, -m/--mod, -M/--no-mod, -h/--help", () => {
  const p = parseCall(model(), ["-m", "./mod", "container-echo", "--string-arg", "x", "-o", "out.tar", "--json"]);
  assert.deepEqual(p.globals, { mod: "./mod", noMod: false, output: "out.tar", json: true, help: false });
  const h = parseCall(model(), ["grep-dir", "--help"]);
  assert.equal(h.globals.help, true, "help skips the required-flag check");
  assert.deepEqual(scanGlobals(["--mod=../x", "fn", "-jM"]), { mod: "../x", noMod: true, json: true, help: false });
  assert.deepEqual(scanGlobals(["-jo", "out.txt", "-mmod"]), { mod: "mod", noMod: false, output: "out.txt", json: true, help: false });
  const grouped = parseCall(model(), ["container-echo", "--string-arg", "x", "-jofile.txt"]).globals;
  assert.equal(grouped.json, true);
  assert.equal(grouped.output, "file.txt");
  assert.equal(scanGlobals(["-M", "container"]).noMod, true);
  assert.equal(moduleRef({ noMod: false }, {}), ".");
  assert.equal(moduleRef({ noMod: false }, { DAGGER_MODULE: "github.com/x/y" }), "github.com/x/y");
  assert.equal(moduleRef({ mod: "./a", noMod: false }, { DAGGER_MODULE: "b" }), "./a");
  assert.equal(moduleRef({ noMod: true }, { DAGGER_MODULE: "b" }), undefined);
});

test("object arguments are resolved first and inlined as IDs", () => {
  const { levels } = parseCall(model(), ["with-secret", "--token", "env:TOKEN", "--files", "a.txt,b.txt", "--cache", "npm"]);
  const objects = objectArgs(levels);
  assert.deepEqual(
    objects.map((o) => `${o.arg.flag}=${o.value.type}:${o.value.address}`),
    ["token=Secret:env:TOKEN", "cache=CacheVolume:npm", "files=File:a.txt", "files=File:b.txt"],
  );
  const steps = objectArgSteps(objects, "/w");
  assert.equal(buildQuery(steps[0]!), 'query { secret(uri: "env://TOKEN") { id } }');
  assert.equal(buildQuery(steps[3]!), 'query { host { file(path: "/w/b.txt") { id } } }');
  const ids = new Map<FlagValue, string>(objects.map((o, i) => [o.value, `id-${i}`]));
  assert.equal(buildQuery(callSteps(levels, ids)), 'query { myModule { withSecret(token: "id-0", cache: "id-1", files: ["id-2", "id-3"]) } }');
  const { levels: dirLevels } = parseCall(model(), ["grep-dir", "--directory-arg", ".", "--pattern", "x"]);
  assert.equal(buildQuery(objectArgSteps(objectArgs(dirLevels), "/w")[0]!), 'query { host { directory(path: "/w", exclude: ["node_modules"]) { id } } }');
});

test("functions: sorted table, first description line or -, walking into objects, errors", () => {
  const m = model();
  const t = functionsTable(walkFunctions(m, []));
  const lines = t.stdout.split("\n");
  assert.equal(lines[0], "Name             Description");
  assert.equal(lines[1], "container-echo   Returns a container that echoes whatever string argument is provided");
  assert.equal(lines[2], "counts           -");
  assert.ok(lines.indexOf("greeting         The greeting") > 0);
  assert.match(t.stdout, /Skipped 1 function\(s\) with unsupported types: build\n$/);
  assert.equal(functionsTable(walkFunctions(m, ["sub"])).stdout, "Name   Description\ndir    -\nname   -\n");
  assert.equal(functionsTable(walkFunctions(m, ["subs"])).stdout.split("\n")[0], "Name   Description");
  assert.throws(() => walkFunctions(m, ["greeting"]), /function "greeting" returns type "STRING_KIND" with no further functions available/);
  assert.throws(() => walkFunctions(m, ["missing"]), /no function "missing" in type "MyModule"/);
  assert.deepEqual(functionsTable({ ...m.main, functions: [] }), { stdout: "", stderr: "No functions found.\n" });
});

test("help: description, usage, functions, arguments with defaults, enum values and required marks", () => {
  const m = model();
  const top = callHelp(m, m.constructorFn!, "tanto call");
  assert.match(top, /^A module for tests\.\n\nMore text\.\n\nUSAGE\n {2}tanto call \[arguments\] <function>\n/);
  assert.match(top, /\n {2}container-echo {3}Returns a container/);
  assert.match(top, /--prefix string {3}\(default: "hi"\)/);
  const counts = callHelp(m, m.main.functions.find((f) => f.name === "counts")!, "tanto call counts");
  assert.match(counts, /--level MyModuleLevel +\(possible values: LOW, HIGH\)/);
  assert.match(counts, /--tags \[\]string +\(default: \[a\]\)/);
  const grep = callHelp(m, m.main.functions.find((f) => f.name === "grepDir")!, "tanto call grep-dir");
  assert.match(grep, /--directory-arg Directory +\[required\]/);
  const lint = callHelp(m, m.main.functions.find((f) => f.name === "lint")!, "tanto call lint");
  assert.match(lint, /--source Directory +\(default: "\/"\)\n/);
  assert.match(staticCallHelp(), /^Call one or more functions, interconnected into a pipeline\n\nUSAGE\n {2}tanto call \[options\] <function>/);
});
