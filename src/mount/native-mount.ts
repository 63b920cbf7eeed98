/**
 * mount(2) and umount2(2) without a process: the addon native/mount.c, built by `npm run
 * build` into dist/native/mount.node (in the engine image, /usr/local/lib/tanto/native). Both
 * this module compiled (dist/src/mount) and the engine's bundle (dist/bundle/engine) find it
 * two levels up. Where it was not built or does not load, or with TANTO_NATIVE_MOUNT=0, the
 * callers start `mount`/`umount` processes instead (mount.ts).
 *
 * Only what those commands would have passed to the kernel for an overlay, a tmpfs or a bind
 * mount is done here: the option words that are flags become flags, the rest is the file
 * system's data; "rbind" is a recursive bind, and a read-only bind is bound, then remounted
 * read-only (the kernel ignores MS_RDONLY on the bind itself) keeping the flags it has, as
 * util-linux does; a bind whose remount fails is unmounted again, never left writable.
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { EngineError } from "../errors.js";
import type { Mount } from "./types.js";

interface Addon {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): Promise<void>;
  umount(target: string, flags: number): Promise<void>;
}

const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MNT_DETACH = 0x2;
/** The kernel copies at most a page of file-system data. */
const MAX_DATA = 4095;
const FLAG_WORDS: Record<string, number> = { ro: MS_RDONLY, rw: 0, nosuid: MS_NOSUID, nodev: MS_NODEV, noexec: MS_NOEXEC };
/** Overlay options naming directories, which a Mount may give relative to its `cwd`. */
const PATH_OPTIONS = new Set(["lowerdir", "upperdir", "workdir"]);

const ADDON = "../../native/mount.node";

let addon: Addon | null | undefined;
let loadError: Error | undefined;

function loaded(): Addon | null {
  if (addon === undefined) {
    addon = null;
    if (process.env["TANTO_NATIVE_MOUNT"] !== "0") {
      const require = createRequire(import.meta.url);
      try {
        addon = require(ADDON) as Addon;
      } catch (err) {
        // Not built here: the callers use mount(8). Built but not loadable is worth a word.
        const file = fileURLToPath(new URL(ADDON, import.meta.url));
        if (existsSync(file)) loadError = new EngineError(`cannot load ${file}, mounting through mount(8) instead: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return addon;
}

/** Whether mounts and unmounts go through the addon (false: through processes). */
export function nativeMountAvailable(): boolean {
  return loaded() !== null;
}

/** Why the addon, though built, did not load (for the engine's log at start); undefined otherwise. */
export function nativeMountProblem(): Error | undefined {
  loaded();
  return loadError;
}

/**
 * Mount `m` on `target` with the addon; false when it cannot (no addon, a type other than
 * overlay, tmpfs or bind, or options too long without their `cwd`), so that the caller runs mount(8).
 */
export async function nativeMount(m: Mount, target: string): Promise<boolean> {
  const a = loaded();
  if (a === null) return false;
  let flags = 0;
  const data: string[] = [];
  for (const o of m.options) {
    const flag = FLAG_WORDS[o];
    if (flag !== undefined) flags |= flag;
    else if (m.type === "bind" && (o === "bind" || o === "rbind")) flags |= o === "rbind" ? MS_BIND | MS_REC : MS_BIND;
    else data.push(m.cwd === undefined ? o : absoluteOption(o, m.cwd));
  }
  const what = `mount -t ${m.type} ${m.source} on ${target}`;
  if (m.type === "overlay" || m.type === "tmpfs") {
    const joined = data.join(",");
    if (joined.length > MAX_DATA) return false;
    await a.mount(m.source, target, m.type, flags, joined).catch((err: unknown) => fail(what, err));
    return true;
  }
  if (m.type === "bind" && data.length === 0 && (flags & MS_BIND) !== 0) {
    const source = m.cwd === undefined ? m.source : path.resolve(m.cwd, m.source);
    await a.mount(source, target, null, flags & (MS_BIND | MS_REC), null).catch((err: unknown) => fail(what, err));
    const extra = flags & ~(MS_BIND | MS_REC);
    if (extra !== 0) {
      await a.mount(null, target, null, MS_REMOUNT | MS_BIND | extra, null).catch(async (err: unknown) => {
        await a.umount(target, MNT_DETACH).catch(() => undefined);
        fail(`${what} (remount)`, err);
      });
    }
    return true;
  }
  return false;
}

/** Unmount `target` with the addon (lazily with `detach`); false when there is no addon. */
export async function nativeUnmount(target: string, detach: boolean): Promise<boolean> {
  const a = loaded();
  if (a === null) return false;
  await a.umount(target, detach ? MNT_DETACH : 0).catch((err: unknown) => fail(`umount ${detach ? "-l " : ""}${target}`, err));
  return true;
}

/** "lowerdir=1/fs:2/fs" with cwd "/root" → "lowerdir=/root/1/fs:/root/2/fs"; other options unchanged. */
function absoluteOption(option: string, cwd: string): string {
  const eq = option.indexOf("=");
  if (eq < 0 || !PATH_OPTIONS.has(option.slice(0, eq))) return option;
  const dirs = option.slice(eq + 1).split(":");
  return `${option.slice(0, eq)}=${dirs.map((d) => path.resolve(cwd, d)).join(":")}`;
}

function fail(what: string, err: unknown): never {
  const errno = (err as { errno?: number }).errno;
  const name = Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0];
  throw new EngineError(`${what} failed: ${(err as Error).message}${name === undefined ? "" : ` (${name})`}`, { cause: err });
}
