/**
 * The bench's plumbing (scripts/bench.mjs and scripts/bench/*.mjs): progress lines, Ctrl-C,
 * undo-on-exit, statistics and formatting, and child processes.
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { promisify } from "node:util";

export const execFileP = promisify(execFile);

/** Discarded runs before each timed series: the first ones pay for page cache, JIT and lazy setup. */
export const WARMUP = 2;
/** The host's hard RLIMIT_NOFILE; runc cannot raise a container's limit above it (no CAP_SYS_RESOURCE here). */
export const NOFILE = 20000;
/** The chains every group times: 20 execs in a row. */
export const CHAIN_STEPS = 20;

/**
 * The `[network]` lines of a bench engine: its own network name and subnet. With
 * TANTO_BENCH_SLOT=N (0–9) every name gets the suffix N and every subnet 10.21X… moves to
 * 10.(150 + 5N + X - 1)…, so that several benches (one per slot) run on one machine at once.
 */
export function benchNetwork(name, cidr) {
  const slot = process.env.TANTO_BENCH_SLOT;
  if (slot === undefined || slot === "") return `name = "${name}"\ncidr = "${cidr}"`;
  if (!/^\d$/.test(slot)) throw new Error(`TANTO_BENCH_SLOT must be one digit, not ${JSON.stringify(slot)}`);
  const m = /^10\.21([1-4])\.(.*)$/.exec(cidr);
  if (!m) throw new Error(`bench subnet ${cidr} is not in 10.211–10.214`);
  return `name = "${name}${slot}"\ncidr = "10.${150 + 5 * Number(slot) + Number(m[1]) - 1}.${m[2]}"`;
}

export const log = (line) => process.stderr.write(`bench: ${line}\n`);

/**
 * Ctrl-C aborts this; every loop checks it between runs. Cleaning up while a loop still runs
 * would race it (an image cannot be removed while a container from it runs, and the loop
 * would start new ones), so the run unwinds first and cleans up in `finally`.
 */
export const interrupt = new AbortController();
export const checkInterrupted = () => interrupt.signal.throwIfAborted();

/** Every resource registers its undo as soon as it exists; they run in reverse order. */
export class Cleanup {
  #undo = [];
  defer(what, fn) {
    this.#undo.push({ what, fn });
  }
  async run() {
    while (this.#undo.length > 0) {
      const { what, fn } = this.#undo.pop();
      try {
        await fn();
      } catch (err) {
        log(`cleanup of ${what} failed: ${err?.message ?? err}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

export function positiveInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} wants a positive integer, got "${text}"`);
  return n;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile: a value that was actually observed. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

export const round = (x) => Math.round(x * 100) / 100;

export function summarize(samples) {
  return { median: round(median(samples)), p90: round(percentile(samples, 90)), n: samples.length, samples: samples.map(round) };
}

export const fmtMs = (x) => (x < 10 ? x.toFixed(1) : Math.round(x).toString());
export const fmtSummary = (s, unit = "ms") => (s ? `${fmtMs(s.median)} / ${fmtMs(s.p90)} ${unit}` : "—");
export const firstLine = (err) => String(err?.message ?? err).split("\n")[0];

/** Two orders of running `a` and `b`, alternated by iteration so that neither always goes first. */
export const alternate = (i, a, b) => (i % 2 === 0 ? [a, b] : [b, a]);

// ---------------------------------------------------------------------------------------------
// Processes

/** Resolve when `child` has exited (immediately if it already has). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; returns the exit code (null when killed by a signal). */
export async function stopChild(child, graceMs = 10_000) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited(child);
    clearTimeout(timer);
  }
  return child.exitCode;
}

/** Run a command to completion and time it from spawn to exit; stdout is discarded, stderr kept for errors. */
export function timedRun(cmd, args, env = process.env, cwd = undefined) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env, ...(cwd ? { cwd } : {}) });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr = (stderr + c).slice(-2000)));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

export async function commandWorks(cmd, args, env = process.env) {
  try {
    await execFileP(cmd, args, { timeout: 10_000, env });
    return true;
  } catch {
    return false;
  }
}

/** VmRSS of a process in MB, from /proc (the kernel's own figure, no sampling tool needed). */
export async function rssMb(pid) {
  const status = await fsp.readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return round(kb / 1024);
}

/** Mount points at or below `dir`, deepest first (the order they can be unmounted in). */
export async function mountsUnder(dir) {
  const info = await fsp.readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m) => m && (m === dir || m.startsWith(dir + "/")))
    .sort((a, b) => b.length - a.length);
}

/** Unmount whatever is still mounted below `dir` (an interrupted engine's overlays) before removing it. */
export async function removeTree(dir) {
  for (const m of await mountsUnder(dir)) await execFileP("umount", ["--lazy", m]).catch((err) => log(`cannot unmount ${m}: ${firstLine(err)}`));
  await fsp.rm(dir, { recursive: true, force: true });
}

export function tail(file, n = 20) {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}
