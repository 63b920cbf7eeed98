/**
 * The CLI and the session protocol the official SDKs speak, and bad input:
 * wrong tokens, malformed GraphQL, unknown images, invalid engine.toml.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { after, before, describe, test } from "node:test";
import { EngineClient } from "../src/client/engine-client.js";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

interface OpenSession {
  port: number;
  token: string;
  query(q: string, auth?: string, extra?: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  child: ReturnType<typeof spawn>;
  exited: Promise<number | null>;
}

async function openSession(env: NodeJS.ProcessEnv, extraArgs: string[] = [], cli = CLI): Promise<OpenSession> {
  const child = spawn(cli, ["session", "--label", "dagger.io/sdk.name:test", ...extraArgs], { env, stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`session exited ${code}`)));
  });
  const { port, session_token: token } = JSON.parse(line) as { port: number; session_token: string };
  const query = async (q: string, auth = "Basic " + Buffer.from(token + ":").toString("base64"), extra: Record<string, unknown> = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}/query`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: auth },
      body: JSON.stringify({ query: q, ...extra }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { port, token, query, child, exited };
}

const messages = (body: Record<string, unknown>): string => ((body["errors"] as Array<{ message: string }> | undefined) ?? []).map((e) => e.message).join("\n");

describe("CLI and session protocol", () => {
  let engine: TestEngine;
  let registry: string;

  before(async () => {
    registry = await testRegistry();
    engine = await startEngine({ registry });
  });
  after(async () => {
    await engine.destroy();
  });

  test("tanto version", async () => {
    const r = await run([CLI, "version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^tanto \d+\.\d+\.\d+/);
  });

  test("session: one JSON line, unknown flags accepted, exit 0 on SIGTERM", async () => {
    const s = await openSession(engine.env, ["--some-future-flag", "--workdir", os.tmpdir()]);
    assert.ok(s.port > 0);
    assert.ok(s.token.length >= 16);
    const { status, body } = await s.query("{ version }");
    assert.equal(status, 200);
    assert.deepEqual(body, { data: { version: "0.1.0" } });
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0);
  });

  test("session: exits 0 when stdin closes", async () => {
    const s = await openSession(engine.env);
    s.child.stdin!.end();
    assert.equal(await s.exited, 0);
  });

  test("session: a missing or wrong token is refused with 401 and JSON", async () => {
    const s = await openSession(engine.env);
    try {
      const wrong = await s.query("{ version }", "Basic " + Buffer.from("nope:").toString("base64"));
      assert.equal(wrong.status, 401);
      assert.match(JSON.stringify(wrong.body), /token/);
      const missing = await s.query("{ version }", "");
      assert.equal(missing.status, 401);
    } finally {
      s.child.kill("SIGTERM");
      await s.exited;
    }
  });

  test("malformed GraphQL gets a GraphQL error and the engine keeps serving", async () => {
    const s = await openSession(engine.env);
    try {
      const bad = await s.query("{ container { from(address: ");
      assert.equal(bad.status, 200);
      assert.match(messages(bad.body), /Syntax Error/);
      const unknownField = await s.query("{ container { nope } }");
      assert.match(messages(unknownField.body), /Cannot query field "nope" on type "Container"/);
      const badId = await s.query('{ loadContainerFromID(id: "garbage") { stdout } }');
      assert.match(messages(badId.body), /invalid ID "garbage"/);
      const ok = await s.query("{ version }");
      assert.deepEqual(ok.body, { data: { version: "0.1.0" } });
    } finally {
      s.child.kill("SIGTERM");
      await s.exited;
    }
  });

  test("an unknown image names the reference and the registry's answer, on stderr", async () => {
    const r = await run([CLI, "query", `{ container { from(address: "${registry}/nope:1") { id } } }`], { env: engine.env });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`${registry.replace(/\./g, "\\.")}/nope:1`));
    assert.match(r.stderr, /manifest unknown|name unknown|not found/i);
  });

  test("query reads the document from --doc and stdin", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-doc-"));
    try {
      await fs.writeFile(path.join(dir, "q.graphql"), "{ version }");
      const fromFile = await run([CLI, "query", "--doc", path.join(dir, "q.graphql")], { env: engine.env });
      assert.equal(fromFile.code, 0, fromFile.stderr);
      assert.deepEqual(JSON.parse(fromFile.stdout), { version: "0.1.0" }, "prints data itself, as dagger query does");
      const fromStdin = await run([CLI, "query"], { env: engine.env, input: "{ defaultPlatform }" });
      assert.equal(fromStdin.code, 0, fromStdin.stderr);
      assert.match(fromStdin.stdout, /linux\//);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("query: --var, --var-json/--vars and the operation name, as dagger query", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-vars-"));
    try {
      const doc = path.join(dir, "q.graphql");
      await fs.writeFile(
        doc,
        `query Make($image: String!) { container { from(address: $image) { withEnvVariable(name: "K", value: "v1") { id } } } }
         query Read($id: ID!, $name: String!) { loadContainerFromID(id: $id) { envVariable(name: $name) } }`,
      );
      const image = `${registry}/busybox:latest`;
      const made = await run([CLI, "query", "--doc", doc, "--var", `image=${image}`, "Make"], { env: engine.env });
      assert.equal(made.code, 0, made.stderr);
      const id = (JSON.parse(made.stdout) as { container: { from: { withEnvVariable: { id: string } } } }).container.from.withEnvVariable.id;
      const read = await run([CLI, "query", "--doc", doc, "--var-json", JSON.stringify({ id }), "--var", "name=K", "Read"], { env: engine.env });
      assert.equal(read.code, 0, read.stderr);
      assert.deepEqual(JSON.parse(read.stdout), { loadContainerFromID: { envVariable: "v1" } });
      const stdin = await run([CLI, "query", "--vars", JSON.stringify({ id, name: "K" }), "Read"], { env: engine.env, input: await fs.readFile(doc, "utf8") });
      assert.equal(stdin.code, 0, stdin.stderr);
      assert.deepEqual(JSON.parse(stdin.stdout), { loadContainerFromID: { envVariable: "v1" } });
      const noOp = await run([CLI, "query", "--doc", doc], { env: engine.env });
      assert.equal(noOp.code, 1);
      assert.match(noOp.stderr, /Must provide operation name/);
      const badVar = await run([CLI, "query", "--doc", doc, "--var", "novalue", "Read"], { env: engine.env });
      assert.equal(badVar.code, 1);
      assert.match(badVar.stderr, /--var "novalue": want name=value/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("session: variables and operationName pass through the SDK endpoint", async () => {
    const s = await openSession(engine.env);
    try {
      const doc = "query A { version } query B($p: Platform!) { container(platform: $p) { platform } }";
      const b = await s.query(doc, undefined, { variables: { p: "linux/amd64" }, operationName: "B" });
      assert.deepEqual(b.body, { data: { container: { platform: "linux/amd64" } } });
      const a = await s.query(doc, undefined, { operationName: "A" });
      assert.deepEqual(a.body, { data: { version: "0.1.0" } });
      const bad = await s.query("{ version }", undefined, { variables: "nope" });
      assert.match(messages(bad.body), /"variables" must be a JSON object/);
    } finally {
      s.child.kill("SIGTERM");
      await s.exited;
    }
  });

  test("the official SDK's GraphQL client: $id: ID! for a ContainerID, the reverse, and an exec", async () => {
    const env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest` };
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "variables.mjs")], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    assert.equal(out["schemaVersion"], "v0.21.9");
    assert.equal(out["stdout"], "hello vars\n");
    assert.equal(out["env"], "hello vars");
    assert.match(out["wrongType"] ?? "", /Variable "\$id" of type "String!" used in position expecting type "ContainerID!"/);
  });

  test("tanto run exits with the command's exit code", async () => {
    const r = await run([CLI, "run", "sh", "-c", 'test -n "$DAGGER_SESSION_PORT" && test -n "$DAGGER_SESSION_TOKEN" && exit 7'], { env: engine.env });
    assert.equal(r.code, 7);
  });

  test("the CLI works copied (as the SDKs provision it into their cache) and symlinked elsewhere", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-cli-copy-"));
    try {
      // What an SDK's provisioning leaves: the CLI copied to ~/.cache/dagger/dagger-<version>, run with `session` args.
      const copy = path.join(home, ".cache", "dagger", "dagger-0.21.9");
      await fs.mkdir(path.dirname(copy), { recursive: true });
      await fs.copyFile(CLI, copy);
      await fs.chmod(copy, 0o700);
      const link = path.join(home, "bin", "tanto");
      await fs.mkdir(path.dirname(link));
      await fs.symlink(CLI, link);
      const env = {
        ...engine.env,
        HOME: home,
        XDG_CACHE_HOME: path.join(home, ".cache"),
        TANTO_SAMPLE_IMAGE: `${registry}/busybox:latest`,
        NODE_PATH: path.join(REPO, "node_modules"),
      };
      for (const cli of [copy, link]) {
        const version = await run([cli, "version"], { env, cwd: home });
        assert.equal(version.code, 0, `${cli}: ${version.stderr}`);
        assert.match(version.stdout, /^tanto \d+\.\d+\.\d+/);
        // The official SDK starts `<cli> session …` itself, from a directory outside the repository.
        const r = await run(["node", path.join(REPO, "examples", "pipeline.mjs")], { env: { ...env, _EXPERIMENTAL_DAGGER_CLI_BIN: cli }, cwd: home });
        assert.equal(r.code, 0, `${cli}: ${r.stderr}`);
        assert.equal(r.stdout.trim(), "hello world");
      }
      // A session through the copy ends on SIGTERM like one through bin/tanto (the launcher is not left in between).
      const s = await openSession(env, ["--workdir", home], copy);
      s.child.kill("SIGTERM");
      assert.equal(await s.exited, 0);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });

  test("query in one round trip: the engine opens and ends a session around it; an older engine gets a session opened first", async () => {
    // The endpoint itself: the session's events, then the result; the session is over with it.
    const events: string[] = [];
    let sessionId = "";
    const answer = await engine.client.queryOnce({}, { query: "{ container { platform } }" }, (id, e) => {
      sessionId = id;
      events.push(e.type);
    });
    assert.ok(answer !== undefined);
    assert.match((JSON.parse(answer) as { data: { container: { platform: string } } }).data.container.platform, /^linux\//);
    assert.ok(events.includes("done"), `events: ${events.join(" ")}`);
    const ended = await engine.client.query(sessionId, { query: "{ version }" });
    assert.match(ended, /not found/, "the session ended with its request");

    // An engine without it (a proxy answering 404 there): the CLI opens a session, as before.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-old-engine-"));
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url?.replace(/[0-9a-f]{32}/, ":id")}`);
      if (req.url === "/v1/query") return void res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no such endpoint /v1/query"}');
      const out = http.request({ socketPath: engine.socket, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(out);
    });
    const socket = path.join(dir, "old.sock");
    await new Promise<void>((r) => proxy.listen(socket, r));
    try {
      const r = await run([CLI, "query", "{ version }"], { env: { ...engine.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `unix://${socket}` } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { version: "0.1.0" });
      assert.deepEqual(seen.slice(0, 3), ["POST /v1/query", "GET /v1/health", "POST /v1/sessions"]);
      assert.ok(seen.includes("POST /v1/sessions/:id/query") && seen.includes("DELETE /v1/sessions/:id"), seen.join(", "));
    } finally {
      proxy.closeAllConnections();
      proxy.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("no engine at a configured address is a clear error", async () => {
    const r = await run([CLI, "query", "{ version }"], { env: { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: "unix:///nonexistent/tanto.sock" } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no engine answers at unix:\/\/\/nonexistent\/tanto\.sock/);
  });
});

describe("engine start-up", () => {
  test("an invalid engine.toml stops the engine at start, naming the key", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-badconf-"));
    try {
      await fs.writeFile(path.join(dir, "engine.toml"), '[registry."x"]\nhttp = "yes"\n');
      const r = await run(
        [
          process.execPath,
          path.join(REPO, "dist/src/cli/main.js"),
          "engine",
          "--root",
          path.join(dir, "root"),
          "--config",
          path.join(dir, "engine.toml"),
          "--addr",
          `unix://${dir}/s.sock`,
        ],
        { timeoutMs: 20_000 },
      );
      assert.equal(r.code, 1);
      assert.match(r.stderr, /registry\."x"\.http/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe("embedded default", () => {
  test("with nothing at the default socket, the CLI starts an engine on this host and reuses it", async (t) => {
    const env = { ...process.env };
    delete env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"];
    // Ask the socket directly: the CLI itself would start an engine there.
    const existing = new EngineClient("unix:///run/tanto/engine.sock");
    const answered = await existing.health().then(
      () => true,
      () => false,
    );
    existing.close();
    if (answered) return t.skip("an engine already serves /run/tanto/engine.sock");

    const first = await run([CLI, "query", "{ version }"], { env });
    const pid = Number((await fs.readFile("/var/lib/tanto/engine.pid", "utf8").catch(() => "0")).trim());
    try {
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /starting one on this host/);
      const second = await run([CLI, "query", "{ version }"], { env });
      assert.equal(second.code, 0, second.stderr);
      assert.doesNotMatch(second.stderr, /starting one/);
    } finally {
      if (pid > 0) {
        process.kill(pid, "SIGTERM");
        for (let i = 0; i < 200; i++) {
          try {
            process.kill(pid, 0);
          } catch {
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  });
});
