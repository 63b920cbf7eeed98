/**
 * Layer compressors that run outside the event loop: Debian's `zstd` (Node 20
 * has no zstd encoder) and `pigz` (gzip on every core) when installed, with
 * Node's zlib as the fallback for gzip.
 */
import { spawn } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { access } from "node:fs/promises";
import * as path from "node:path";
import { Transform } from "node:stream";
import { EngineError } from "../errors.js";
import { compressGzip } from "./write-layer.js";

/** A Transform that pipes bytes through a child process (its stdin to its stdout). */
export function filterThrough(cmd: string, args: readonly string[], hint: string): Transform {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let failed: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on("error", (err) => {
      failed = new EngineError(`cannot run ${cmd} (${hint}): ${err.message}`, { cause: err });
      resolve();
    });
    child.on("close", (code, signal) => {
      if (code !== 0 && failed === undefined) failed = new EngineError(`${cmd} failed (${signal ?? `exit code ${code}`}): ${stderr.trim()}`);
      resolve();
    });
  });
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (failed) return cb(failed);
      if (child.stdin.write(chunk)) cb();
      else child.stdin.once("drain", () => cb());
    },
    flush(cb) {
      child.stdin.end();
      void exited.then(() => cb(failed ?? null));
    },
    destroy(err, cb) {
      child.stdin.destroy();
      if (child.exitCode === null) child.kill("SIGKILL");
      cb(err);
    },
  });
  child.stdout.on("data", (d: Buffer) => out.push(d));
  child.stdin.on("error", (err) => {
    failed ??= new EngineError(`${cmd}: ${err.message}`, { cause: err });
  });
  return out;
}

/**
 * zstd at level 3 (the default of zstd and of BuildKit), one thread, so the
 * output is the same whatever the machine.
 */
export function compressZstd(): Transform {
  return filterThrough("zstd", ["-q", "-c", "-3", "--no-progress"], "install Debian's zstd package");
}

let pigz: Promise<boolean> | undefined;

async function onPath(cmd: string): Promise<boolean> {
  for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(":")) {
    try {
      await access(path.join(dir, cmd), fsConstants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/**
 * gzip at level 6 on every core with pigz (`-n`: no name or time in the
 * header, so equal input gives equal output), else Node's zlib.
 */
export async function compressGzipFast(): Promise<Transform> {
  pigz ??= onPath("pigz");
  return (await pigz) ? filterThrough("pigz", ["-c", "-6", "-n"], "install Debian's pigz package") : compressGzip();
}
