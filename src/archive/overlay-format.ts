/**
 * overlayfs's on-disk format, as layers are unpacked into and packed from
 * upper directories: a whiteout is a character device 0/0, an opaque
 * directory carries the xattr `trusted.overlay.opaque=y`; their OCI
 * counterparts in a layer tar are `.wh.<name>` and `.wh..wh..opq`.
 *
 * Node cannot make device nodes or set trusted xattrs itself, so `runTool`
 * runs coreutils' mknod and attr's setfattr/getfattr.
 */
import { execFile } from "node:child_process";
import type { Stats } from "node:fs";
import { CancelledError, EngineError, FailedPreconditionError, messageOf } from "../errors.js";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";
export const OPAQUE_XATTR = "trusted.overlay.opaque";

/** Overlay's whiteout: a character device with device number 0/0. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** A helper tool refused to create a path because something is already there (its EEXIST). */
export class ToolExistsError extends EngineError {}

/** Runs a small helper binary, naming the package to install when it is missing. */
export async function runTool(cmd: string, args: string[], signal: AbortSignal | undefined, encoding: BufferEncoding = "utf8"): Promise<string> {
  return new Promise((resolve, reject) => {
    // LC_ALL=C: error messages are matched below.
    execFile(cmd, args, { encoding, maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: "C" }, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      if (signal?.aborted) return reject(new CancelledError(`${cmd} cancelled`, { cause: err }));
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        const pkg = cmd === "mknod" ? "coreutils" : "attr";
        return reject(new FailedPreconditionError(`"${cmd}" not found: install the Debian package "${pkg}"`, { cause: err }));
      }
      const message = `${cmd} ${args.join(" ")}: ${stderr.trim() || messageOf(err)}`;
      if (/File exists/.test(stderr)) return reject(new ToolExistsError(message, { cause: err }));
      reject(new EngineError(message, { cause: err }));
    });
  });
}
