/**
 * Issue 11's acceptance through the CLI: TypeScript modules made with
 * `tanto init`, edited, then `tanto install`/`develop`/`functions`/`call`.
 * One main module covers the argument kinds (Directory, Container, Secret,
 * string, list, enum), a constructor, a returned object chained, a returned
 * Container chained into core calls, `defaultPath`, a thrown error and calls
 * into two dependencies (a local module and one from a git ref served by git
 * daemon). Bad input is checked for a clear error, exit 1 and no leftovers.
 * Timings of the first (fresh) and a repeated (cached) call are printed.
 * As Dagger does, a scalar result is printed as is (a newline is added only
 * when stdout is a terminal).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { type GitDaemon, startGitDaemon } from "./support/git-servers.js";

const SLOW = 15 * 60_000;

const DEP_SOURCE = `import { object, func } from "@dagger.io/dagger"

@object()
export class Dep {
  /** Says something about the name */
  @func()
  hello(name: string): string {
    return \`dep says \${name}\`
  }
}
`;

const GIT_SOURCE = `import { object, func } from "@dagger.io/dagger"

@object()
export class Gitmod {
  @func()
  ping(): string {
    return "pong from git"
  }
}
`;

const MAIN_SOURCE = `import { dag, argument, Container, Directory, Secret, object, func } from "@dagger.io/dagger"

/** A color */
export enum Color {
  Red = "RED",
  Blue = "BLUE",
}

@object()
export class Thing {
  @func()
  x: number

  constructor(x: number) {
    this.x = x
  }

  /** Ten times x */
  @func()
  getValue(): number {
    return this.x * 10
  }
}

/** Acceptance module */
@object()
export class Acc {
  prefix: string

  constructor(prefix = "p") {
    this.prefix = prefix
  }

  /** Entries of a directory */
  @func()
  async files(dir: Directory): Promise<string[]> {
    return await dir.entries()
  }

  /** Entries of the data directory by default */
  @func()
  async defaulted(@argument({ defaultPath: "/data" }) dir: Directory): Promise<string> {
    return (await dir.entries()).join(",")
  }

  @func()
  async ctrOut(ctr: Container): Promise<string> {
    return await ctr.withExec(["echo", this.prefix, "from-ctr"]).stdout()
  }

  @func()
  async reveal(s: Secret): Promise<string> {
    return (await s.plaintext()).toUpperCase()
  }

  @func()
  join(items: string[]): string {
    return \`\${this.prefix}:\${items.join("+")}\`
  }

  @func()
  pick(color: Color): string {
    return \`picked \${color}\`
  }

  @func()
  makeThing(x: number): Thing {
    return new Thing(x)
  }

  @func()
  base(): Container {
    return dag.container().from("busybox:latest")
  }

  @func()
  boom(): string {
    throw new Error("kaboom from user code")
  }

  @func()
  async viaDep(name: string): Promise<string> {
    return await dag.dep().hello(name)
  }

  @func()
  async viaGit(): Promise<string> {
    return await dag.gitmod().ping()
  }
}
`;

/** Every path under dir (relative), sorted: to see that a failed command left nothing. */
async function listing(dir: string): Promise<string[]> {
  const out = (await fs.readdir(dir, { recursive: true })) as string[];
  return out.filter((p) => !p.startsWith("node_modules")).sort();
}

describe("module acceptance (TypeScript, through the CLI)", () => {
  let engine: TestEngine;
  let dir: string;
  let daemon: GitDaemon | undefined;
  let gitHost = "";
  const timings: string[] = [];
  const tanto = (args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) =>
    run([CLI, ...args], { env: { ...engine.env, ...extraEnv }, cwd, timeoutMs: SLOW });
  const timed = async (label: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) => {
    const t0 = Date.now();
    const r = await tanto(args, cwd, extraEnv);
    timings.push(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return r;
  };

  before(async () => {
    engine = await startEngine({ registry: await testRegistry() });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-modacc-"));
    const gitEnv = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    };
    // The git module: tanto init in a repository's subdirectory, committed and tagged sub/v1.0.0.
    const repo = path.join(dir, "srv", "mod.git");
    await fs.mkdir(repo, { recursive: true });
    const git = (...args: string[]): string => execFileSync("git", ["-C", repo, ...args], { env: gitEnv, encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    const init = await tanto(["init", "--sdk=typescript", "--name=gitmod", path.join(repo, "sub")], dir);
    assert.equal(init.code, 0, init.stderr);
    await fs.writeFile(path.join(repo, "sub", "src", "index.ts"), GIT_SOURCE);
    git("add", ".");
    git("commit", "-q", "-m", "gitmod");
    git("tag", "sub/v1.0.0");
    daemon = await startGitDaemon(path.join(dir, "srv"), gitEnv);
    const port = daemon.port;
    gitHost = `127.0.0.1:${port}`;
  });
  after(async () => {
    await daemon?.stop();
    process.stderr.write(`module acceptance timings:\n  ${timings.join("\n  ")}\n`);
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("a module with two dependencies: argument kinds, objects, chaining, defaultPath, errors", { timeout: SLOW }, async () => {
    const mod = path.join(dir, "acc");
    const dep = path.join(dir, "dep");
    for (const [name, p] of [
      ["acc", mod],
      ["dep", dep],
    ] as const) {
      const r = await tanto(["init", "--sdk=typescript", `--name=${name}`, p], dir);
      assert.equal(r.code, 0, r.stderr);
    }
    await fs.writeFile(path.join(dep, "src", "index.ts"), DEP_SOURCE);
    const install = await tanto(["install", "../dep"], mod);
    assert.equal(install.code, 0, install.stderr);
    const installGit = await tanto(["install", `git://${gitHost}/mod.git/sub@v1.0.0`], mod);
    assert.equal(installGit.code, 0, installGit.stderr);
    const config = JSON.parse(await fs.readFile(path.join(mod, "dagger.json"), "utf8")) as {
      dependencies?: Array<{ name: string; source: string; pin?: string }>;
    };
    assert.deepEqual(
      config.dependencies?.map((d) => [d.name, d.source]),
      [
        ["dep", "../dep"],
        ["gitmod", `git://${gitHost}/mod.git/sub@v1.0.0`],
      ],
    );
    assert.match(config.dependencies?.[1]?.pin ?? "", /^[0-9a-f]{40}$/);

    await fs.writeFile(path.join(mod, "src", "index.ts"), MAIN_SOURCE);
    await fs.mkdir(path.join(mod, "data"));
    for (const f of ["a", "b"]) await fs.writeFile(path.join(mod, "data", f), f);
    const develop = await timed("develop (regenerated client with dep + gitmod)", ["develop"], mod);
    assert.equal(develop.code, 0, develop.stderr);
    assert.match(await fs.readFile(path.join(mod, "sdk", "client.gen.ts"), "utf8").catch(() => ""), /gitmod/i);

    const fns = await timed("functions (first, fresh module)", ["functions"], mod);
    assert.equal(fns.code, 0, fns.stderr);
    assert.equal(
      fns.stdout,
      [
        "Name         Description",
        "base         -",
        "boom         -",
        "ctr-out      -",
        "defaulted    Entries of the data directory by default",
        "files        Entries of a directory",
        "join         -",
        "make-thing   -",
        "pick         -",
        "reveal       -",
        "via-dep      -",
        "via-git      -",
        "",
      ].join("\n"),
    );

    const first = await timed("call join (first call)", ["call", "--prefix", "q", "join", "--items", "a,b,c"], mod);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "q:a+b+c");
    const again = await timed("call join (repeated, cached)", ["call", "--prefix", "q", "join", "--items", "a,b,c"], mod);
    assert.equal(again.stdout, "q:a+b+c", again.stderr);
    // The engine knows this source's registration: a repeated call neither registers nor builds the runtime again.
    assert.doesNotMatch(again.stderr, /acc: register|typescript sdk/, again.stderr);

    const files = await tanto(["call", "files", "--dir", "./data"], mod);
    assert.equal(files.code, 0, files.stderr);
    assert.equal(files.stdout, "a\nb\n");
    const defaulted = await tanto(["call", "defaulted"], mod);
    assert.equal(defaulted.code, 0, defaulted.stderr);
    assert.equal(defaulted.stdout, "a,b");

    const ctr = await tanto(["call", "ctr-out", "--ctr", "busybox:latest"], mod);
    assert.equal(ctr.code, 0, ctr.stderr);
    assert.equal(ctr.stdout, "p from-ctr\n");

    const secret = await tanto(["call", "reveal", "--s", "env://ACC_SECRET"], mod, { ACC_SECRET: "hush" });
    assert.equal(secret.code, 0, secret.stderr);
    assert.equal(secret.stdout, "HUSH");

    const pick = await tanto(["call", "pick", "--color", "Blue"], mod);
    assert.equal(pick.code, 0, pick.stderr);
    assert.equal(pick.stdout, "picked BLUE");

    const chained = await tanto(["call", "make-thing", "--x", "1", "get-value"], mod);
    assert.equal(chained.code, 0, chained.stderr);
    assert.equal(chained.stdout, "10");

    const withExec = await tanto(["call", "base", "with-exec", "--args", "echo,chained", "stdout"], mod);
    assert.equal(withExec.code, 0, withExec.stderr);
    assert.equal(withExec.stdout, "chained\n");

    const viaDep = await tanto(["call", "via-dep", "--name", "bob"], mod);
    assert.equal(viaDep.code, 0, viaDep.stderr);
    assert.equal(viaDep.stdout, "dep says bob");
    const viaGit = await tanto(["call", "via-git"], mod);
    assert.equal(viaGit.code, 0, viaGit.stderr);
    assert.equal(viaGit.stdout, "pong from git");

    const boom = await tanto(["call", "boom"], mod);
    assert.equal(boom.code, 1, boom.stderr);
    assert.equal(boom.stdout, "");
    assert.match(boom.stderr, /^Error: kaboom from user code$/m);
    assert.match(boom.stderr, /acc: Acc\.boom/);

    // Bad input on a module that works: clear errors listing what is known, exit 1.
    const unknownFn = await tanto(["call", "nope"], mod);
    assert.equal(unknownFn.code, 1);
    assert.match(
      unknownFn.stderr,
      /Error: unknown command "nope" for "tanto call" \(functions: base, boom, ctr-out, defaulted, files, join, make-thing, pick, reveal, via-dep, via-git\)/,
    );
    const unknownFlag = await tanto(["call", "make-thing", "--y", "1"], mod);
    assert.equal(unknownFlag.code, 1);
    assert.match(unknownFlag.stderr, /Error: unknown flag: --y \(flags of "tanto call make-thing": --x\)/);
    const wrongType = await tanto(["call", "make-thing", "--x", "one"], mod);
    assert.equal(wrongType.code, 1);
    assert.match(wrongType.stderr, /Error: invalid argument "one" for "--x" flag/);
    const badEnum = await tanto(["call", "pick", "--color", "Green"], mod);
    assert.equal(badEnum.code, 1);
    assert.match(badEnum.stderr, /Error: invalid argument "Green" for "--color" flag: value should be one of RED,BLUE/);

    // A git ref that does not exist: refused, dagger.json untouched.
    const before = await fs.readFile(path.join(mod, "dagger.json"), "utf8");
    const missingRef = await tanto(["install", `git://${gitHost}/mod.git/sub@no-such-ref`], mod);
    assert.equal(missingRef.code, 1, missingRef.stderr);
    assert.match(missingRef.stderr, /^Error: .*no-such-ref/m);
    assert.equal(await fs.readFile(path.join(mod, "dagger.json"), "utf8"), before);
  });

  test("bad modules: compile error, missing dagger.json, dependency cycle; nothing left behind", { timeout: SLOW }, async () => {
    const broken = path.join(dir, "broken");
    assert.equal((await tanto(["init", "--sdk=typescript", "--name=broken", broken], dir)).code, 0);
    await fs.writeFile(
      path.join(broken, "src", "index.ts"),
      `import { object, func } from "@dagger.io/dagger"\n\n@object()\nexport class Broken {\n  @func()\n  oops(): string {\n    const n: number = (1 +\n    return String(n)\n  }\n}\n`,
    );
    const files = await listing(broken);
    // As with Dagger, registration reads the code with the TypeScript scanner; loading it for a call compiles it.
    const compile = await tanto(["call", "oops"], broken);
    assert.equal(compile.code, 1, compile.stderr);
    assert.equal(compile.stdout, "");
    assert.match(compile.stderr, /^Error: /m);
    assert.match(compile.stderr, /src\/index\.ts[:(]8[,:]\d+/);
    assert.deepEqual(await listing(broken), files);

    const nothing = path.join(dir, "nothing");
    await fs.mkdir(nothing);
    const missing = await tanto(["functions", "-m", nothing], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: .*dagger\.json/m);
    assert.deepEqual(await fs.readdir(nothing), []);

    const c1 = path.join(dir, "c1");
    const c2 = path.join(dir, "c2");
    for (const [name, p] of [
      ["c1", c1],
      ["c2", c2],
    ] as const)
      assert.equal((await tanto(["init", "--sdk=typescript", `--name=${name}`, p], dir)).code, 0);
    assert.equal((await tanto(["install", "../c2"], c1)).code, 0);
    const c2Before = await fs.readFile(path.join(c2, "dagger.json"), "utf8");
    const refused = await tanto(["install", "../c1"], c2);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^Error: .*cycle/im);
    assert.equal(await fs.readFile(path.join(c2, "dagger.json"), "utf8"), c2Before);
    // The same cycle written by hand: loading it fails with the cycle named.
    const c2Config = JSON.parse(c2Before) as Record<string, unknown>;
    await fs.writeFile(path.join(c2, "dagger.json"), JSON.stringify({ ...c2Config, dependencies: [{ name: "c1", source: "../c1" }] }));
    const cycle = await tanto(["functions"], c1);
    assert.equal(cycle.code, 1, cycle.stderr);
    assert.match(cycle.stderr, /^Error: .*cycle/im);
  });
});
