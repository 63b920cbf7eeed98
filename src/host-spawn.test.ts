import assert from "node:assert/strict";
import { test } from "node:test";
import { type HostChild, hostSpawn } from "./host-spawn.js";

function collect(child: HostChild): Promise<{ out: string; err: string; code: number | null; sig: NodeJS.Signals | null; events: string[] }> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const events: string[] = [];
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", () => events.push("exit"));
    child.on("close", (code: number | null, sig: NodeJS.Signals | null) => {
      events.push("close");
      resolve({ out, err, code, sig, events });
    });
  });
}

test("commands through the helper: output, exit code, stdin, cwd and env, as with Node's spawn", async () => {
  const a = hostSpawn("sh", ["-c", 'cat; echo "$X $(pwd)"; echo oops >&2; exit 3'], { cwd: "/tmp", env: { PATH: process.env["PATH"], X: "hello" } });
  a.stdin.end("from stdin\n");
  assert.deepEqual(await collect(a), { out: "from stdin\nhello /tmp\n", err: "oops\n", code: 3, sig: null, events: ["exit", "close"] });

  // Many at once, with more output than one pipe read.
  const many = await Promise.all(
    Array.from({ length: 20 }, (_, i) => {
      const c = hostSpawn("sh", ["-c", `head -c 200000 /dev/zero | tr '\\0' x; echo ${i}`]);
      c.stdin.end();
      return collect(c);
    }),
  );
  for (const [i, r] of many.entries()) assert.equal(r.out, `${"x".repeat(200000)}${i}\n`);
});

test("a missing binary is an error event; kill and abort end a command", async () => {
  const missing = hostSpawn("/nonexistent/tanto-binary", []);
  missing.stdin.end();
  const err = await new Promise<Error & { code?: string }>((resolve) => missing.on("error", resolve));
  assert.equal(err.code, "ENOENT");

  const sleeper = hostSpawn("sleep", ["30"]);
  sleeper.stdin.end();
  const done = collect(sleeper);
  sleeper.kill("SIGKILL");
  assert.equal((await done).sig, "SIGKILL");

  const controller = new AbortController();
  const aborted = hostSpawn("sleep", ["30"], { signal: controller.signal });
  aborted.stdin.end();
  const failed = new Promise<Error>((resolve) => aborted.on("error", resolve));
  controller.abort();
  assert.equal((await failed).name, "AbortError");
});

test("an engine killed with -9: a child waiting for input gets its end, the helper exits, and the engine's stderr closes", async () => {
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const self = fileURLToPath(new URL("./host-spawn.js", import.meta.url));
  // A stand-in engine: starts `sh -c 'cat >/dev/null; echo done'` (reads to the end of its input, as a CNI plugin does) and waits.
  const script = `import(${JSON.stringify(self)}).then(({ hostSpawn }) => { const c = hostSpawn("sh", ["-c", "cat >/dev/null; echo $$"]); c.stdout.pipe(process.stdout); setInterval(() => {}, 1000); process.stdout.write("started\\n"); });`;
  const engine = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve) => engine.stdout.on("data", (d: Buffer) => d.toString().includes("started") && resolve()));
  await new Promise((r) => setTimeout(r, 300));
  engine.kill("SIGKILL");
  // Nothing else holds the engine's stdout and stderr: both close soon after it died.
  const closed = await Promise.race([
    new Promise<boolean>((resolve) => engine.on("close", () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
  ]);
  assert.ok(closed, "the killed engine's pipes closed: no helper or child of it keeps them open");
});

test("a signal to the engine's process group leaves the helper and its commands to the engine", async () => {
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const self = fileURLToPath(new URL("./host-spawn.js", import.meta.url));
  // A stand-in engine in a process group of its own: on SIGTERM it waits for its command's end, as an engine's stop does.
  // It says "started" once the command has written (so the helper is up, its signal handlers set).
  const script = `import(${JSON.stringify(self)}).then(({ hostSpawn }) => {
    const c = hostSpawn("sh", ["-c", "echo begun; sleep 1; echo finished"]);
    c.stdin.end();
    let out = "";
    c.stdout.on("data", (d) => { if (!out) process.stdout.write("started\\n"); out += d; });
    c.on("error", (e) => { process.stdout.write("error: " + e.message + "\\n"); process.exit(1); });
    c.on("close", (code, sig) => { process.stdout.write(out.trim().replace("\\n", " ") + " " + code + " " + sig + "\\n"); process.exit(0); });
    process.on("SIGTERM", () => process.stdout.write("stopping\\n"));
  });`;
  const engine = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"], detached: true });
  let out = "";
  engine.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => engine.on("close", resolve));
  await new Promise<void>((resolve) => engine.stdout.on("data", () => out.includes("started") && resolve()));
  process.kill(-engine.pid!, "SIGTERM");
  assert.equal(await exited, 0, out);
  assert.equal(out, "started\nstopping\nbegun finished 0 null\n");
});
