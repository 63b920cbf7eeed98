/**
 * `tanto cache explain`: a pipeline runs once; then one input changes and
 * explain names it — an env var, a file of a client directory, the base
 * image's digest (the tag moved), a secret's value — and says that the ops
 * after it re-run because their input does. Nothing runs during explain.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Explanation } from "../src/cache/explain.js";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { busyboxLayer, pushImage } from "./support/images.js";

describe("cache explain", () => {
  let engine: TestEngine;
  let registry: string;
  let image: string;
  let dir: string;

  before(async () => {
    registry = await testRegistry();
    image = `${registry}/busybox:latest`;
    engine = await startEngine({ configText: `[registry."${registry}"]\nhttp = true\n[network]\nenabled = false\n` });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-explain-"));
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** A pipeline: run it for real, or get the ID of its last container (through a query file or the SDK). */
  interface Pipeline {
    run(): Promise<void>;
    id(): Promise<string>;
  }

  /** Through `tanto query` and a query file: `chain(leaf)` is the query with `stdout` or `id` as its leaf. */
  const queried = (chain: (leaf: string) => string): Pipeline => ({
    run: async () => {
      const r = await run([CLI, "query", `{ ${chain("stdout")} }`], { env: engine.env });
      assert.equal(r.code, 0, r.stderr);
    },
    id: () => write(`{ ${chain("id")} }`),
  });

  /** Through the official SDK: `chain` is JavaScript building the container from `dag` (and `process.env`). */
  const programmed = (chain: string, env: () => NodeJS.ProcessEnv): Pipeline => {
    const program = (leaf: string) => `
      import { connection, dag } from "@dagger.io/dagger";
      let out;
      await connection(async () => { out = await (${chain}).${leaf}(); });
      console.log(JSON.stringify(out));`;
    const go = async (leaf: string): Promise<string> => {
      const r = await run([CLI, "run", "node", "--input-type=module", "-e", program(leaf)], {
        env: { ...engine.env, ...env(), IMAGE: image, NODE_PATH: path.join(REPO, "node_modules") },
      });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as string;
    };
    return { run: async () => void (await go("stdout")), id: () => go("id") };
  };

  /** Run the pipeline, check explain finds it all cached, `change()`, and explain again (text and JSON). */
  async function explainAfter(p: Pipeline, change: () => Promise<void>): Promise<{ text: string; json: Explanation }> {
    await p.run();
    const again = await run([CLI, "cache", "explain", await p.id()], { env: engine.env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^0 ops would run; \d+ answered from the cache$/m, "unchanged: all cached");
    await change();
    const target = await p.id();
    const before = (await engine.client.stats()).executed["exec"] ?? 0;
    const text = await run([CLI, "cache", "explain", target], { env: engine.env });
    assert.equal(text.code, 0, text.stderr);
    const json = await run([CLI, "cache", "explain", "--json", target], { env: engine.env });
    assert.equal(json.code, 0, json.stderr);
    assert.equal((await engine.client.stats()).executed["exec"] ?? 0, before, "explain runs nothing");
    return { text: text.stdout, json: JSON.parse(json.stdout) as Explanation };
  }

  let n = 0;
  const write = async (doc: string): Promise<string> => {
    const file = path.join(dir, `q${n++}.graphql`);
    await fs.writeFile(file, doc);
    return file;
  };

  test("an env var", async () => {
    let value = "one";
    const { text, json } = await explainAfter(
      queried(
        (leaf) =>
          `container { from(address: "${image}") { withEnvVariable(name: "GREETING", value: "${value}") { withExec(args: ["sh", "-c", "echo $GREETING > /g"]) { withExec(args: ["cat", "/g"]) { ${leaf} } } } } }`,
      ),
      async () => void (value = "two"),
    );
    assert.equal(json.ops.length, 2, text);
    assert.deepEqual(
      json.ops[0]!.changes.map((c) => [c.facet, c.before, c.now]),
      [["env:GREETING", "one", "two"]],
    );
    assert.match(text, /#1 exec sh -c echo \$GREETING > \/g: would run\n {3}closest cached record: exec sh -c echo \$GREETING > \/g/);
    assert.match(text, /- env GREETING changed: "one" → "two"/);
    // The second exec: the same env change, and its rootfs is the first exec, which re-runs.
    assert.match(text, /#2 exec cat \/g: would run\n.*\n {3}- env GREETING changed: "one" → "two"\n {3}- its input rootfs re-runs \(#1\)/);
    assert.match(text, /^2 ops would run; 1 answered from the cache$/m);
  });

  test("a file of a client directory", async () => {
    const src = path.join(dir, "src");
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, "a.txt"), "alpha\n");
    await fs.writeFile(path.join(src, "b.txt"), "beta\n");
    const { text, json } = await explainAfter(
      programmed(
        `dag.container().from(process.env.IMAGE).withDirectory("/src", dag.host().directory(process.env.SRC)).withExec(["cat", "/src/a.txt", "/src/b.txt"])`,
        () => ({ SRC: src }),
      ),
      async () => fs.writeFile(path.join(src, "a.txt"), "ALPHA\n"),
    );
    assertFileChange(text, json);
  });

  const assertFileChange = (text: string, json: Explanation): void => {
    const copy = json.ops[0]!;
    assert.equal(copy.kind, "file", text);
    assert.deepEqual(
      copy.changes.map((c) => c.facet),
      ["host:1:a.txt"],
      text,
    );
    assert.match(text, /- file a\.txt of the client directory \(copy source 1\) changed: content sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}/);
    assert.match(text, /exec cat \/src\/a\.txt \/src\/b\.txt: would run\n.*\n {3}- its input rootfs re-runs \(#1\)/);
  };

  test("the base image's digest", async () => {
    const layer = await busyboxLayer();
    const push = (v: string) => pushImage(registry, ["explain/base:v1"], [layer], { Env: ["PATH=/bin", `BUILD=${v}`], Cmd: ["sh"] });
    const [first] = await push("1");
    let second = "";
    const { text, json } = await explainAfter(
      queried((leaf) => `container { from(address: "${registry}/explain/base:v1") { withExec(args: ["sh", "-c", "echo base"]) { ${leaf} } } }`),
      async () => void (second = (await push("2"))[0]!.digest),
    );
    const from = json.ops.find((o) => o.kind === "image");
    assert.ok(from, text);
    assert.deepEqual(
      from.changes.map((c) => c.facet),
      ["ref"],
    );
    assert.ok(text.includes(`- base image ${registry}/explain/base:v1: digest ${first!.digest} → ${second}`), text);
    assert.match(text, /exec sh -c echo base: would run\n.*\n {3}- env BUILD changed: "1" → "2"\n {3}- its input rootfs re-runs \(#1\)/);
  });

  test("a secret's value", async () => {
    let value = "s3cret-1";
    const { text, json } = await explainAfter(
      programmed(
        `dag.container().from(process.env.IMAGE).withSecretVariable("TOKEN", dag.setSecret("token", process.env.VALUE)).withExec(["sh", "-c", "test -n \\"$TOKEN\\" && echo has-token"])`,
        () => ({ VALUE: value }),
      ),
      async () => void (value = "s3cret-2"),
    );
    assert.equal(json.ops.length, 1, text);
    assert.deepEqual(
      json.ops[0]!.changes.map((c) => c.facet),
      ["secret:TOKEN"],
    );
    assert.match(text, /- secret variable TOKEN has another value \(version [0-9a-f]{12} → [0-9a-f]{12}\)/);
    assert.ok(!text.includes("s3cret") && !JSON.stringify(json).includes("s3cret"), "never the value");
  });
});
