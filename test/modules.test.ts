/**
 * The module engine end to end, with a module written in shell (runtime
 * test/modules/runtime.sh, loaded through test/modules/shell-runtime.mjs):
 * module sources found on the client, the registration call, serving,
 * constructor and functions, stored fields, module objects by ID, core
 * objects returned, errors, caching policies, a local dependency, the
 * generated context and the type definitions the CLI reads.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { type GitDaemon, startGitDaemon, startGitHttp } from "./support/git-servers.js";

// biome-ignore lint/suspicious/noExplicitAny: GraphQL answers, checked by value below
type Json = Record<string, any>;

describe("modules (engine side)", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let gitDir: string;
  let gitCommit: string;
  let daemon: GitDaemon | undefined;

  before(async () => {
    const registry = await testRegistry();
    const image = `${registry}/busybox:latest`;
    engine = await startEngine({
      registry,
      env: { ...process.env, TANTO_SDK_RUNTIMES: `shell=${path.join(REPO, "test", "modules", "shell-runtime.mjs")}`, TANTO_SHELL_RUNTIME_IMAGE: image },
    });
    env = { ...engine.env };
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-module-"));
    const script = await fs.readFile(path.join(REPO, "test", "modules", "runtime.sh"), "utf8");
    const write = async (sub: string, name: string, main: string, deps: unknown[]) => {
      await fs.mkdir(path.join(dir, sub), { recursive: true });
      await fs.writeFile(path.join(dir, sub, "dagger.json"), JSON.stringify({ name, engineVersion: "v0.21.8", sdk: { source: "shell" }, dependencies: deps }));
      await fs.writeFile(path.join(dir, sub, "runtime.sh"), script);
      await fs.writeFile(path.join(dir, sub, "main.txt"), `${main}\n`);
    };
    await write(".", "shelly", "Shelly", [{ name: "dep", source: "dep" }]);
    await write("dep", "dep", "Dep", []);
    await fs.mkdir(path.join(dir, "data"));
    await fs.writeFile(path.join(dir, "data", "a.txt"), "a");
    await fs.writeFile(path.join(dir, "data", "b.skip"), "b");
    // A module inside a git checkout: found up from a subdirectory, the checkout is its context.
    await fs.mkdir(path.join(dir, "nest", ".git"), { recursive: true });
    await fs.mkdir(path.join(dir, "nest", "a", "b"), { recursive: true });
    await fs.writeFile(path.join(dir, "nest", "a", "dagger.json"), JSON.stringify({ name: "nested", engineVersion: "v0.21.8" }));
    await fs.writeFile(path.join(dir, "nest", "a", "b", "code.txt"), "x");
    await fs.writeFile(path.join(dir, "nest", "unrelated.txt"), "not part of the module");

    // A module in a git repository (subdirectory sub/, tagged sub/v1.2.3), served by git daemon.
    gitDir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-module-git-"));
    const repo = path.join(gitDir, "srv", "mod.git");
    await fs.mkdir(path.join(repo, "sub"), { recursive: true });
    await fs.writeFile(path.join(repo, "sub", "dagger.json"), JSON.stringify({ name: "gitmod", engineVersion: "v0.21.8", sdk: { source: "shell" } }));
    await fs.writeFile(path.join(repo, "sub", "runtime.sh"), script);
    await fs.writeFile(path.join(repo, "sub", "main.txt"), "Gitmod\n");
    const gitEnv = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: gitDir,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    };
    const git = (...args: string[]): string => execFileSync("git", ["-C", repo, ...args], { env: gitEnv, encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "module");
    gitCommit = git("rev-parse", "HEAD");
    git("tag", "sub/v1.2.3");
    daemon = await startGitDaemon(path.join(gitDir, "srv"), gitEnv);
    const port = daemon.port;
    env["TANTO_GIT_MODULE"] = `git://127.0.0.1:${port}/mod.git/sub@v1.2.3`;
  });
  after(async () => {
    await daemon?.stop();
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(gitDir, { recursive: true, force: true });
  });

  test("a shell module registers, is served and answers calls", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "modules.mjs")], { env, cwd: dir, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Json;
    const detail = (k: string) => `${k}: ${JSON.stringify(out[k])}`;
    assert.match(r.stderr, /shelly: register/, "progress names the registration");
    assert.match(r.stderr, /shelly: Shelly\.hello/, "progress names the function call");
    assert.deepEqual(out["source"].data.moduleSource, {
      kind: "LOCAL_SOURCE",
      moduleName: "shelly",
      configExists: true,
      sourceRootSubpath: ".",
      sourceSubpath: ".",
      engineVersion: "v0.21.8",
      sdk: { source: "shell" },
      dependencies: [{ moduleName: "dep" }],
    });
    const mod = out["module"].data?.moduleSource.asModule;
    assert.equal(mod?.name, "shelly", detail("module"));
    assert.equal(mod.description, "A module in sh");
    const [main, child] = mod.objects.map((o: Json) => o["asObject"]);
    assert.equal(main.name, "Shelly");
    assert.equal(main.sourceModuleName, "shelly");
    assert.deepEqual(main.constructor.args, [{ name: "prefix", defaultValue: '"hi"' }]);
    assert.deepEqual(main.fields, [{ name: "prefix" }]);
    assert.deepEqual(
      main.functions.map((f: Json) => f["name"]),
      ["hello", "echo", "fresh", "fail", "crash", "stamp", "child", "viaDep", "ls", "ctxFiles", "imgEcho"],
    );
    assert.deepEqual(main.functions[0], {
      name: "hello",
      description: "Says hello",
      returnType: { kind: "STRING_KIND", name: "String" },
      args: [{ name: "name", defaultValue: '"world"' }],
    });
    assert.equal(child.name, "ShellyChild");
    assert.deepEqual(out["serve"], { data: { moduleSource: { asModule: { serve: null } } } });
    assert.deepEqual(out["hello"], { data: { shelly: { hello: "hi, world!" } } });
    assert.deepEqual(out["helloArgs"], { data: { shelly: { prefix: "yo", hello: "yo, bob!" } } });
    assert.deepEqual(out["echo"], { data: { shelly: { echo: { stdout: "from a module\n" } } } }, detail("echo"));
    assert.equal(out["child"].data?.shelly.child.note, "from p1", detail("child"));
    assert.deepEqual(out["node"], { data: { node: { note: "from p1" } } }, detail("node"));
    assert.deepEqual(out["loadFromId"], { data: { loadShellyChildFromID: { note: "from p1" } } });
    assert.equal(out["fail"].errors?.[0]?.message, "boom", detail("fail"));
    assert.equal(out["fail"].errors[0].extensions.code, 42);
    assert.match(out["crash"].errors?.[0]?.message ?? "", /^call function "crash": process .* exit code: 3\ncrashing on purpose/, detail("crash"));
    assert.match(out["stamp1"].data?.shelly.stamp ?? "", /^[0-9a-f-]{36}$/, detail("stamp1"));
    assert.equal(out["stamp2"].data.shelly.stamp, out["stamp1"].data.shelly.stamp, "default policy: cached");
    assert.match(out["fresh1"].data?.shelly.fresh ?? "", /^[0-9a-f-]{36}$/);
    assert.notEqual(out["fresh2"].data.shelly.fresh, out["fresh1"].data.shelly.fresh, "policy Never: run each time");
    assert.deepEqual(out["viaDep"], { data: { shelly: { viaDep: "dep says, parent!" } } }, detail("viaDep"));
    assert.deepEqual(out["dep"], { data: { dep: { hello: "hi, direct!" } } }, detail("dep"));
    assert.deepEqual(out["ls"], { data: { shelly: { ls: "a.txt" } } }, `ignore filters an explicit Directory argument: ${detail("ls")}`);
    const ctxFiles = String(out["ctxFiles"].data?.shelly.ctxFiles).split(",");
    assert.ok(
      ctxFiles.includes("dagger.json") && ctxFiles.includes("main.txt") && ctxFiles.includes("data/"),
      `defaultPath "/" is the context: ${detail("ctxFiles")}`,
    );
    assert.deepEqual(out["imgEcho"], { data: { shelly: { imgEcho: "yes" } } }, `defaultAddress pulls the image: ${detail("imgEcho")}`);
    const typeDefs = out["typeDefs"].data?.currentTypeDefs as Json[];
    assert.equal(typeDefs?.[0]?.["name"], "Query", detail("typeDefs"));
    assert.deepEqual(typeDefs[0]!["asObject"].functions, [
      { name: "shelly", sourceModuleName: "shelly" },
      { name: "dep", sourceModuleName: "dep" },
    ]);
    assert.deepEqual(
      typeDefs.slice(1, 5).map((t) => t["name"]),
      ["Shelly", "ShellyChild", "Dep", "DepChild"],
    );
    // Core types come along, so that a result can be chained (Container.stdout); the module types once only.
    const container = typeDefs.find((t) => t["name"] === "Container");
    assert.ok(
      container?.["asObject"].functions.some((f: Json) => f["name"] === "stdout"),
      "Container is listed with its functions",
    );
    assert.equal(typeDefs.filter((t) => t["name"] === "Shelly").length, 1);
    const coreQuery = (out["typeDefsCore"].data.currentTypeDefs as Json[])[0]!["asObject"].functions.map((f: Json) => f["name"]);
    assert.ok(coreQuery.includes("container") && coreQuery.includes("shelly"), `without hideCore, Query keeps the core: ${coreQuery}`);
    const generated = out["generated"].data?.moduleSource.withName.generatedContextDirectory;
    assert.ok(generated, detail("generated"));
    assert.deepEqual(JSON.parse(generated.file.contents), {
      name: "renamed",
      engineVersion: "v0.21.8",
      sdk: { source: "shell" },
      dependencies: [{ name: "dep", source: "dep" }],
    });
    assert.match(generated.generatedFile.contents, /^module renamed: \d+ types, v0\.21\.\d+\n$/);
    // develop's view: the same files as changes to the context.
    const changeset = out["changeset"].data?.moduleSource.withName.generatedContextChangeset;
    assert.deepEqual(changeset, { addedPaths: ["generated.txt"], modifiedPaths: ["dagger.json"], removedPaths: [] }, detail("changeset"));
    assert.ok(out["introspection"].data?.moduleSource.introspectionSchemaJSON.size > 10_000, detail("introspection"));
    assert.deepEqual(out["typedefBuild"], { data: { typeDef: { withListOf: { kind: "LIST_KIND", asList: { elementTypeDef: { kind: "INTEGER_KIND" } } } } } });
    assert.deepEqual(
      out["findUp"].data?.moduleSource,
      {
        kind: "LOCAL_SOURCE",
        moduleName: "nested",
        sourceRootSubpath: "a",
        localContextDirectoryPath: await fs.realpath(path.join(dir, "nest")),
        contextDirectory: { entries: ["a/"] },
      },
      detail("findUp"),
    );
    assert.match(out["missing"].errors?.[0]?.message ?? "", /module source "\.\/nope" does not exist/, detail("missing"));
    const real = await fs.realpath(dir);
    assert.deepEqual(
      out["allowMissing"].data?.moduleSource,
      { configExists: false, moduleName: "", localContextDirectoryPath: path.join(real, "nope"), sourceRootSubpath: "." },
      detail("allowMissing"),
    );
    assert.deepEqual(
      out["newInRepo"].data?.moduleSource,
      { configExists: false, localContextDirectoryPath: path.join(real, "nest"), sourceRootSubpath: "a/new" },
      detail("newInRepo"),
    );
    assert.deepEqual(
      out["gitSource"].data?.moduleSource,
      { kind: "GIT_SOURCE", moduleName: "gitmod", sourceRootSubpath: "sub", version: "v1.2.3", commit: gitCommit, asString: env["TANTO_GIT_MODULE"] },
      detail("gitSource"),
    );
    assert.deepEqual(out["gitCall"], { data: { gitmod: { hello: "hi, git!" } } }, detail("gitCall"));
    assert.match(out["notInModule"].errors?.[0]?.message ?? "", /only available to a module's code/);
  });

  test("git refs over smart HTTP: a scheme, a subpath, a version with a slash, a commit pin", async () => {
    const srv = await startGitHttp(path.join(gitDir, "srv"), "", "");
    try {
      const repo = path.join(gitDir, "srv", "mod.git");
      const git = (...args: string[]) =>
        execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
      git("branch", "-f", "release/one", "HEAD");
      git("update-server-info");
      const base = `http://127.0.0.1:${srv.port}/smart/mod.git`;
      const query = async (doc: string) => {
        const r = await run([CLI, "query", doc], { env, cwd: dir, timeoutMs: 120_000 });
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as Json;
      };
      const fields = "kind moduleName sourceRootSubpath version commit asString cloneRef htmlRepoURL";
      const tagged = await query(`{ moduleSource(refString: "${base}/sub@v1.2.3") { ${fields} } }`);
      assert.deepEqual(tagged["moduleSource"], {
        kind: "GIT_SOURCE",
        moduleName: "gitmod",
        sourceRootSubpath: "sub",
        version: "v1.2.3",
        commit: gitCommit,
        asString: `${base}/sub@v1.2.3`,
        cloneRef: base,
        htmlRepoURL: `http://127.0.0.1:${srv.port}/smart/mod`,
      });
      // The version is all that follows the "@", slashes included: a branch.
      const branch = await query(`{ moduleSource(refString: "${base}/sub@release/one") { version commit asString } }`);
      assert.deepEqual(branch["moduleSource"], { version: "release/one", commit: gitCommit, asString: `${base}/sub@release/one` });
      // A pin names the commit; the module is found up from a directory below dagger.json.
      const pinned = await query(`{ moduleSource(refString: "${base}/sub/deeper", refPin: "${gitCommit}") { sourceRootSubpath commit moduleName } }`);
      assert.deepEqual(pinned["moduleSource"], { sourceRootSubpath: "sub", commit: gitCommit, moduleName: "gitmod" });
      const served = await query(`{ moduleSource(refString: "${base}/sub@v1.2.3") { asModule { name serve } } }`);
      assert.deepEqual(served["moduleSource"], { asModule: { name: "gitmod", serve: null } });
      const out = await run([CLI, "query", `{ moduleSource(refString: "${base}/../etc") { kind } }`], { env, cwd: dir, timeoutMs: 120_000 });
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /points out of root/);
    } finally {
      await srv.close();
    }
  });

  test("after the engine stops, nothing is left", async () => {
    assert.equal(await engine.stop(), 0);
    assert.deepEqual(await leftovers(engine.root), { mounts: [], containers: [] });
  });
});
