// Directory/File helpers through the official SDK: filter, chown, search,
// findUp, patches, changesets, withReplaced, JSON values, env files, errors.
import { dag } from "@dagger.io/dagger";
import { failure, image, report } from "./common.mjs";

await report(async (out) => {
  const d = dag
    .directory()
    .withNewFile("a.txt", "hello world\nsecond hello\n")
    .withNewFile("src/b.go", "package b\n// TODO fix(x)\n")
    .withNewFile("src/deep/c.txt", "nothing\n")
    .withNewFile(".hidden", "hello hidden\n")
    .withNewFile(".gitignore", "*.log\nbuild/\n")
    .withNewFile("x.log", "hello log\n")
    .withNewFile("build/out.txt", "hello build\n");

  out.filtered = await d.filter({ include: ["src/**", "a.txt"] }).glob("**");
  out.excluded = await d.filter({ exclude: ["src"] }).entries();
  out.gitignored = await d.filter({ gitignore: true }).entries();

  const owned = dag
    .container()
    .from(image)
    .withDirectory("/d", d.chown("src", "1234:5678"))
    .withExec(["sh", "-c", "stat -c '%u:%g %n' /d/src /d/src/b.go /d/a.txt"]);
  out.chown = await owned.stdout();
  out.fileChown = await dag.container().from(image).withFile("/f", d.file("a.txt").chown("42:43")).withExec(["stat", "-c", "%u:%g", "/f"]).stdout();

  const results = await d.search({ pattern: "hel+o" });
  out.search = await Promise.all(results.map(async (r) => [await r.filePath(), await r.lineNumber(), await r.matchedLines()]));
  const first = results[0];
  out.submatches = await Promise.all((await first.submatches()).map(async (s) => [await s.text(), await s.start(), await s.end()]));
  out.searchOffset = await results[2].absoluteOffset();
  out.searchSkip = await Promise.all((await d.search({ pattern: "hello", skipHidden: true, skipIgnored: true, filesOnly: true })).map((r) => r.filePath()));
  out.searchLiteral = (await d.search({ pattern: "fix(x)", literal: true })).length;
  out.searchPaths = await Promise.all((await d.search({ pattern: "package|nothing", paths: ["src"], globs: ["**/*.go"] })).map((r) => r.filePath()));
  out.fileSearch = await Promise.all((await d.file("a.txt").search("HELLO", { insensitive: true, limit: 1 })).map((r) => r.lineNumber()));

  out.findUp = await d.findUp("b.go", "src/deep");
  out.findUpRoot = await d.findUp(".gitignore", "src/deep");
  out.findUpNone = await d.findUp("nope", "src");

  const patch = [
    "diff --git a/a.txt b/a.txt",
    "--- a/a.txt",
    "+++ b/a.txt",
    "@@ -1,2 +1,2 @@",
    " hello world",
    "-second hello",
    "+second patched",
    "diff --git a/new.txt b/new.txt",
    "new file mode 100644",
    "--- /dev/null",
    "+++ b/new.txt",
    "@@ -0,0 +1 @@",
    "+created",
    "",
  ].join("\n");
  const patched = d.withPatch(patch);
  out.patchedA = await patched.file("a.txt").contents();
  out.patchedNew = await patched.file("new.txt").contents();
  out.patchFile = await d.withPatchFile(dag.file("p.diff", patch)).file("new.txt").contents();
  out.badPatch = await failure(d.withPatch("this is not a diff\n").sync());
  out.conflict = await failure(dag.directory().withNewFile("a.txt", "other\n").withPatch(patch).sync());

  const after = d.withNewFile("a.txt", "changed\n").withoutDirectory("src/deep").withNewFile("added/n.txt", "n\n");
  const cs = after.changes(d);
  out.added = await cs.addedPaths();
  out.modified = await cs.modifiedPaths();
  out.removed = await cs.removedPaths();
  out.isEmpty = await cs.isEmpty();
  out.emptyCs = await d.changes(d).isEmpty();
  out.patch = await cs.asPatch().contents();
  out.stats = await Promise.all((await cs.diffStats()).map(async (s) => [await s.path(), await s.kind(), await s.addedLines(), await s.removedLines()]));
  out.layer = await cs.layer().glob("**");
  const applied = d.withChanges(cs);
  out.appliedEntries = await applied.glob("**/*.txt");
  out.appliedA = await applied.file("a.txt").contents();
  out.roundTrip = await d.withPatchFile(cs.asPatch()).file("a.txt").contents();
  out.emptyChangeset = [await dag.changeset().isEmpty(), await d.withChanges(dag.changeset()).glob("**/*.txt")];
  await d.export("./ws");
  out.csExport = await cs.export("./ws");
  out.csId = (await dag.loadChangesetFromID(await cs.id()).addedPaths()).length;

  const f = dag.file("r.txt", "one two one\nthree one\n", { permissions: 0o600 });
  out.queryFile = [await f.name(), await f.contents(), await (await f.stat()).permissions()];
  out.replacedAll = await f.withReplaced("one", "1", { all: true }).contents();
  out.replacedFrom = await f.withReplaced("one", "1", { firstFrom: 2 }).contents();
  out.replacedOnly = await f.withReplaced("two", "2").contents();
  out.replaceMany = await failure(f.withReplaced("one", "1").contents());
  out.replaceNone = await failure(f.withReplaced("zzz", "1").contents());

  const j = dag.file("j.json", '{"a":{"b":[1,2,3]},"s":"str","t":true}').asJSON();
  out.jsonFields = await j.fields();
  out.jsonB = await j.field(["a", "b"]).contents();
  out.jsonItem = await (await j.field(["a", "b"]).asArray())[2].asInteger();
  out.jsonStr = await j.field(["s"]).asString();
  out.jsonBool = await j.field(["t"]).asBoolean();
  out.jsonSet = await j.withField(["a", "c"], dag.json().newString("x")).contents();
  out.jsonPretty = await dag.json().withContents('{"k":1}').contents({ pretty: true });
  out.jsonBad = await failure(dag.file("bad.json", "{nope").asJSON().contents());

  const env = dag.file(".env", "# comment\nA=1\nexport B='two words'\nC=\"x $A y\"\nAPP_TOKEN=t\nAPP_NAME=n\n").asEnvFile({ expand: true });
  out.envVars = await Promise.all((await env.variables()).map(async (v) => `${await v.name()}=${await v.value()}`));
  out.envRaw = await env.get("C", { raw: true });
  out.envGet = await env.get("C");
  out.envExists = [await env.exists("A"), await env.exists("Z")];
  out.envNs = await Promise.all((await env.namespace_("APP_").variables()).map(async (v) => `${await v.name()}=${await v.value()}`));
  const edited = env.withVariable("D", "has space").withoutVariable("A");
  out.envFile = await edited.asFile().contents();
  out.envInContainer = await dag.container().from(image).withEnvFileVariables(edited).withExec(["sh", "-c", 'echo "$B|$D|${A:-unset}"']).stdout();
  out.queryEnv = await dag.envFile().withVariable("X", "1").get("X");
  out.envBad = await failure(dag.file("bad.env", "A=1\nnot a line\n").asEnvFile().variables());

  const e = dag.error("it broke").withValue("code", "42");
  out.error = [await e.message(), ...(await Promise.all((await e.values()).map(async (v) => `${await v.name()}=${await v.value()}`)))];
  out.withError = await failure(d.withError("custom failure").entries());
  out.containerError = await failure(dag.container().withError("container failure").sync());
});
