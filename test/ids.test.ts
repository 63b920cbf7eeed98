/**
 * IDs through the official SDK: compact for shared sub-recipes, valid on a
 * second engine and after a restart (they name sources and content, not
 * engine handles), clear errors for corrupt or forged ones, and node(id:)
 * for every object type.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "ids.mjs");

describe("IDs", () => {
  let a: TestEngine;
  let b: TestEngine;
  let env: NodeJS.ProcessEnv;
  let work: string;

  before(async () => {
    const registry = await testRegistry();
    [a, b] = await Promise.all([startEngine({ registry }), startEngine({ registry })]);
    work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-ids-"));
    await fs.mkdir(path.join(work, "host"));
    await fs.writeFile(path.join(work, "host", "one.txt"), "1");
    await fs.writeFile(path.join(work, "host", "two.txt"), "2");
    env = { TANTO_TEST_IMAGE: `${registry}/busybox:latest`, TANTO_HOST_DIR: path.join(work, "host"), TANTO_IDS_FILE: path.join(work, "ids.json") };
  });
  after(async () => {
    await Promise.all([a.destroy(), b.destroy()]);
    await fs.rm(work, { recursive: true, force: true });
  });

  const program = async (engine: TestEngine, mode: string): Promise<Record<string, unknown>> => {
    const r = await run([CLI, "run", "node", PROGRAM, mode], { env: { ...engine.env, ...env }, cwd: work });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  };

  let made: { ids: Record<string, string>; nestedIdBytes: number; results: unknown; stamp: string };

  test("50 nested withDirectory(…, c.directory(…)) steps: an ID under 64 KB that evaluates", async () => {
    made = (await program(a, "make")) as typeof made;
    assert.ok(made.nestedIdBytes < 64 * 1024, `the ID is ${made.nestedIdBytes} bytes`);
    const expected = ["deep.txt", ...Array.from({ length: 49 }, (_, i) => `f${i}`)].sort();
    assert.deepEqual(made.results, {
      nestedEntries: expected,
      execStdout: "hello ids\n",
      hostEntries: ["one.txt", "two.txt"],
      fileContents: "file contents",
    });
    await fs.writeFile(env["TANTO_IDS_FILE"]!, JSON.stringify(made.ids));
  });

  test("an ID made by one engine evaluates on a second engine (same registry, same client)", async () => {
    const before = await b.client.stats();
    const loaded = (await program(b, "load")) as typeof made;
    assert.deepEqual(loaded.results, made.results);
    const stats = await b.client.stats();
    assert.ok((stats.executed["exec"] ?? 0) > (before.executed["exec"] ?? 0), "engine B ran the exec itself");
    assert.notEqual(loaded.stamp, made.stamp, "B's exec is its own run");
  });

  test("client files on an engine that lacks them, asked by another client: a clear error", async () => {
    const pruned = await run([CLI, "engine", "prune", "--all"], { env: b.env });
    assert.equal(pruned.code, 0, pruned.stderr);
    // Another client machine: the same program under another host name (a UTS namespace of its own).
    const r = await run(["unshare", "--uts", "sh", "-c", 'hostname other-client && exec "$@"', "sh", CLI, "run", "node", PROGRAM, "host-elsewhere"], {
      env: { ...b.env, ...env },
      cwd: work,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { error?: string };
    assert.match(
      String(out.error),
      /host path ".*host" of client \S+ \(content sha256:[0-9a-f]{64}\) is not held by this engine, and no session of that client is connected/,
    );
  });

  test("and on the first engine after a restart, from its cache", async () => {
    await a.restart();
    const loaded = (await program(a, "load")) as typeof made;
    assert.deepEqual(loaded.results, made.results);
    assert.equal(loaded.stamp, made.stamp, "the same cached output");
    assert.equal((await a.client.stats()).executed["exec"] ?? 0, 0, "no exec ran after the restart");
  });

  test("corrupt and forged IDs get clear errors; the engine keeps serving", async () => {
    const r = await program(a, "bad");
    assert.match(String(r["notOurs"]), /invalid ID "Q29udGFpbmVyOjE=": not an ID issued by a tanto engine/);
    assert.match(String(r["truncated"]), /invalid ID "tanto2\.[^"]*": corrupt encoding/);
    assert.match(String(r["wrongType"]), /ID is a Container, expected a Directory/);
    assert.equal(r["engineStillAnswers"], "alive");
  });

  test("node(id:) loads an object of every type", async () => {
    const r = (await program(a, "node")) as { types: Record<string, string> };
    for (const [type, got] of Object.entries(r.types)) assert.equal(got, type, `node(id:) of a ${type}`);
    assert.equal(Object.keys(r.types).length, 13);
  });
});
