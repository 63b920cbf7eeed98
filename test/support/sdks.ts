/**
 * The non-Node official SDKs as test clients: the Python SDK's virtualenv and
 * the Go SDK's toolchain, both put in place by scripts/install.sh, and a way
 * to run one smoke-program case through `tanto run` and read its JSON answer.
 *
 *   const python = pythonSdk();                 // throws if install.sh has not run
 *   const out = await runCase([python, SMOKE_PY, "exec"], engine.env);
 */
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { CLI, REPO, run } from "./engine.js";

/** Where scripts/install.sh keeps the SDKs' installs (TANTO_CACHE_DIR overrides). */
export const SDK_CACHE = path.join(process.env["TANTO_CACHE_DIR"] || path.join(os.homedir(), ".cache", "tanto"), "sdk");
export const PYTHON_SDK_VERSION = "0.21.11";
export const GO_SDK_DIR = path.join(REPO, "test", "fixtures", "go-sdk");

/** The venv's python with dagger-io at the pinned version; a clear error when it is not there. */
export async function pythonSdk(): Promise<string> {
  const python = path.join(SDK_CACHE, "python-venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`no Python SDK venv at ${python}: run scripts/install.sh`);
  const r = await run([python, "-c", "import importlib.metadata as m; print(m.version('dagger-io'))"], { timeoutMs: 30_000 });
  if (r.code !== 0 || r.stdout.trim() !== PYTHON_SDK_VERSION)
    throw new Error(`${python} has dagger-io ${JSON.stringify(r.stdout.trim())}, want ${PYTHON_SDK_VERSION}: run scripts/install.sh\n${r.stderr}`);
  return python;
}

/** The `go` directive of the fixture's go.mod: the least toolchain the SDK builds with. */
async function goRequired(): Promise<string> {
  const mod = await fs.readFile(path.join(GO_SDK_DIR, "go.mod"), "utf8");
  const m = /^go (\d+\.\d+(?:\.\d+)?)$/m.exec(mod);
  if (!m) throw new Error(`no go directive in ${GO_SDK_DIR}/go.mod`);
  return m[1]!;
}

/** `go` from PATH, else the upstream tarball's place (/usr/local/go), where scripts/install.sh also looks. */
function goCommand(): string {
  const dirs = (process.env["PATH"] ?? "").split(path.delimiter).filter(Boolean);
  const onPath = dirs.map((d) => path.join(d, "go")).find((p) => existsSync(p));
  return onPath ?? (existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go");
}

const versionParts = (v: string): number[] => v.split(".").map((x) => Number.parseInt(x, 10) || 0);
function atLeast(have: string, want: string): boolean {
  const a = versionParts(have);
  const b = versionParts(want);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/**
 * Build the Go smoke program with the host's toolchain into `outDir`. Modules
 * come from the standard module cache (scripts/install.sh downloads them);
 * GOTOOLCHAIN=local, so an old toolchain is an error, never a download.
 */
export async function buildGoProgram(outDir: string): Promise<{ binary: string; ms: number }> {
  const go = goCommand();
  const version = await run([go, "env", "GOVERSION"], { timeoutMs: 30_000 }).catch((err: unknown) => {
    throw new Error(`cannot run ${go} (${String(err)}): run scripts/install.sh`);
  });
  const have = version.stdout.trim().replace(/^go/, "");
  const want = await goRequired();
  if (version.code !== 0 || !atLeast(have, want)) throw new Error(`go ${have || "?"} on PATH; the Go SDK needs go ${want} or newer\n${version.stderr}`);
  const binary = path.join(outDir, "go-sdk-smoke");
  const started = Date.now();
  const env = { ...process.env, GOFLAGS: "-mod=mod -buildvcs=false", GOTOOLCHAIN: "local", CGO_ENABLED: "0" };
  const r = await run([go, "build", "-o", binary, "."], { cwd: GO_SDK_DIR, env, timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`go build in ${GO_SDK_DIR} failed (${r.code}):\n${r.stderr}`);
  return { binary, ms: Date.now() - started };
}

export interface CaseResult {
  out: Record<string, unknown>;
  stderr: string;
  ms: number;
}

/**
 * `tanto run argv…` in `cwd`; the program prints one JSON object on success.
 * With `sdkStartsSession`, the program runs on its own and its SDK starts
 * `tanto session` itself (_EXPERIMENTAL_DAGGER_CLI_BIN), as `dagger run` is not there.
 */
export async function runCase(
  argv: string[],
  env: NodeJS.ProcessEnv,
  opts: { cwd?: string; timeoutMs?: number; sdkStartsSession?: boolean } = {},
): Promise<CaseResult> {
  const started = Date.now();
  const command = opts.sdkStartsSession ? argv : [CLI, "run", ...argv];
  const runEnv = opts.sdkStartsSession ? { ...env, _EXPERIMENTAL_DAGGER_CLI_BIN: CLI } : env;
  const r = await run(command, { env: runEnv, cwd: opts.cwd ?? REPO, timeoutMs: opts.timeoutMs ?? 120_000 });
  const ms = Date.now() - started;
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code} after ${ms} ms\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return { out: JSON.parse(line) as Record<string, unknown>, stderr: r.stderr, ms };
  } catch {
    throw new Error(`${argv.join(" ")} printed no JSON: ${JSON.stringify(r.stdout)}\nstderr: ${r.stderr}`);
  }
}
