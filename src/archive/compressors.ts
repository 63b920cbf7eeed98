/**
 * Layer compressors: gzip in blocks on libuv's thread pool (gzip-blocks.ts)
 * and zstd through Debian's `zstd` (Node 20 has no zstd encoder).
 */
import { spawn } from "node:child_process";
import { Transform } from "node:stream";
import { EngineError } from "../errors.js";
import { compressGzipBlocks } from "./gzip-blocks.js";

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

/**
 * gzip at level 6 for layers: deterministic (no name or time in the header,
 * equal input gives equal bytes on any machine), deflated on several threads,
 * and incompressible data stored rather than compressed.
 */
export function compressGzip(): Transform {
  return compressGzipBlocks();
}
