/**
 * A real engine for integration tests: `tanto engine` as a child process with
 * its own state directory, socket and engine.toml, so tests never touch the
 * host's /var/lib/tanto and can restart or kill the engine at will.
 *
 *   const engine = await startEngine({ registry: "127.0.0.1:5000" });
 *   try { await run(["node", "prog.mjs"], { env: engine.env }) } finally { await engine.destroy() }
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { EngineClient } from "../../src/client/engine-client.js";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const CLI = path.join(REPO, "bin", "tanto");

export interface TestEngine {
  readonly root: string;
  readonly socket: string;
  /** Environment for clients (tanto CLI, SDKs) to reach this engine. */
  readonly env: NodeJS.ProcessEnv;
  readonly client: EngineClient;
  /** This engine's own network (bridge, iptables comments, namespaces). */
  readonly networkName: string;
  logs(): string;
  /** The running engine's pid. */
  readonly pid: number | undefined;
  /**
   * Stop reading the engine's stdout and stderr (close our ends of its pipes),
   * as when the test runner that started it was killed: its writes fail with EPIPE.
   */
  detachOutput(): void;
  /** Stop with SIGTERM and wait; the state directory stays. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Start again on the same state directory. */
  restart(): Promise<void>;
  /** Stop and remove the state directory. */
  destroy(): Promise<void>;
}

export async function startEngine(
  opts: { registry?: string; configText?: string; extraArgs?: string[]; env?: NodeJS.ProcessEnv; root?: string } = {},
): Promise<TestEngine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-engine-"));
  // A caller's root (a small filesystem of its own) stays the caller's to remove.
  const root = opts.root ?? path.join(dir, "root");
  const socket = path.join(dir, "engine.sock");
  const config = path.join(dir, "engine.toml");
  const registry = opts.registry ?? process.env["TANTO_TEST_REGISTRY"] ?? "127.0.0.1:5000";
  await fs.writeFile(config, opts.configText ?? `[registry."docker.io"]\nmirrors = ["${registry}"]\n[registry."${registry}"]\nhttp = true\n`);
  const url = `unix://${socket}`;
  const client = new EngineClient(url);
  let child: ChildProcess | undefined;
  let output = "";
  let attempts = 0;

  // Each test engine gets its own network, so engines never share a bridge,
  // subnet or DNS names (with each other, or with an engine on this host).
  const network = (): string[] => {
    const r = randomBytes(3);
    return ["--network-name", `tt${r.toString("hex")}`, "--network-cidr", `10.${100 + (r[0]! % 100)}.${r[1]}.0/24`];
  };
  let networkArgs = network();

  const start = async (): Promise<void> => {
    output = "";
    const args = ["engine", "--root", root, "--config", config, "--addr", url, "--debug", ...networkArgs, ...(opts.extraArgs ?? [])];
    const c = spawn(process.execPath, [path.join(REPO, "dist/src/cli/main.js"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: opts.env ?? process.env,
    });
    child = c;
    c.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    c.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (c.exitCode !== null) {
        // A subnet another engine took in the meantime: pick another and go again.
        if (/overlaps/.test(output) && attempts++ < 3) {
          networkArgs = network();
          return start();
        }
        throw new Error(`engine exited with ${c.exitCode}:\n${output}`);
      }
      try {
        await client.health();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`engine did not answer in time:\n${output}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };

  const waitExit = (c: ChildProcess): Promise<number | null> =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once("exit", (code) => r(code)));

  const stop = async (): Promise<number | null> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null;
    const exited = waitExit(c);
    process.kill(c.pid!, "SIGTERM");
    return exited;
  };

  await start();
  return {
    root,
    socket,
    env: { ...process.env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: url },
    client,
    get networkName() {
      return networkArgs[1]!;
    },
    logs: () => output,
    get pid() {
      return child?.pid;
    },
    detachOutput: () => {
      child?.stdout?.destroy();
      child?.stderr?.destroy();
    },
    stop,
    kill: async () => {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = waitExit(c);
      process.kill(c.pid!, "SIGKILL");
      await exited;
    },
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop();
      client.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Run a command to completion, capturing its output. */
export function run(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, cwd: opts.cwd ?? REPO, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that exits without reading its input (stat, find) must not fail the caller with EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Leftovers an engine must never leave: mounts under its root (but its two tmpfs), runc containers
 * (in runc's state, which is on that tmpfs while the engine runs) and, where that state names none,
 * container processes (by their root file system, an overlay over this root's snapshots: found
 * even once runc's state is gone).
 * An exec's overlay is unmounted right after its answer, so mounts get up to 2 s to go.
 */
export async function leftovers(root: string): Promise<{ mounts: string[]; containers: string[] }> {
  const deadline = Date.now() + 2_000;
  let mounts = await mountsBelow(root);
  while (mounts.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    mounts = await mountsBelow(root);
  }
  let containers: string[] = [];
  try {
    // runc's --root: on the bundles' tmpfs (src/executor/bundle-dir.ts).
    containers = (await fs.readdir(path.join(root, "run", "bundles", ".runc"))).filter((n) => !n.startsWith("."));
  } catch {
    containers = [];
  }
  // Processes count where runc's state does not name their container (it went with the tmpfs: a leak).
  if (containers.length === 0) containers = (await containerProcesses(root)).map((pid) => `process ${pid}`);
  return { mounts, containers };
}

/** Processes in another mount namespace whose "/" is an overlay with its layers under `root`. */
async function containerProcesses(root: string): Promise<number[]> {
  const ours = await fs.readlink("/proc/self/ns/mnt");
  const found: number[] = [];
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await fs.readlink(`/proc/${entry}/ns/mnt`)) === ours) continue;
      const rootMount = (await fs.readFile(`/proc/${entry}/mountinfo`, "utf8")).split("\n").find((l) => l.split(" ")[4] === "/");
      if (rootMount?.includes(" overlay ") && rootMount.includes(`dir=${root}/`)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

async function mountsBelow(root: string): Promise<string[]> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8");
  return (
    info
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((p) => p.startsWith(root))
      // The running engine's own tmpfs for runc bundles and for containers' mount points (a stopped
      // engine unmounts them; a new one replaces a dead one's).
      .filter((p) => p !== path.join(root, "run", "bundles") && p !== path.join(root, "run", "containers"))
  );
}
